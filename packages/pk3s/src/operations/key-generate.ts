/** `pk3s key generate --out PREFIX`: a minisign key pair, PREFIX.pub and PREFIX.key (0600). */
import { open, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { type PassphraseInput, providedPassphrase } from "../trust/signing-key.js";

export interface KeyGenerateInput extends PassphraseInput {
  out: string;
  force?: boolean | undefined;
}

export interface KeyGenerateResult {
  keyId: string;
  publicKey: string;
  publicKeyFile: string;
  secretKeyFile: string;
  encrypted: boolean;
}

/** Write `text` to a new file (or over an old one with `force`), with `mode`, flushed to disk. */
async function writeNew(path: string, text: string, mode: number, force: boolean): Promise<void> {
  if (force) await unlink(path).catch(() => undefined);
  const handle = await open(path, "wx", mode).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "EEXIST")
      throw new UsageError(`${path} already exists`, { where: path, hint: "pick another --out, or pass --force to replace the key pair" });
    throw err;
  });
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function generateKeyPair(input: KeyGenerateInput): Promise<KeyGenerateResult> {
  const prefix = resolve(input.out);
  const publicKeyFile = `${prefix}.pub`;
  const secretKeyFile = `${prefix}.key`;
  const passphrase = await providedPassphrase(input);
  const { formatPublicKeyFile, formatSecretKeyFile, generateSecretKey, publicKeyOf } = await import("@productive-k3s/pkg-format/minisign");
  const secret = generateSecretKey();
  const pub = publicKeyOf(secret);
  // The secret first: a public key without its secret is never left behind as if it were usable.
  await writeNew(secretKeyFile, await formatSecretKeyFile(secret, passphrase), 0o600, input.force === true);
  try {
    await writeNew(publicKeyFile, formatPublicKeyFile(pub), 0o644, input.force === true);
  } catch (err) {
    await unlink(secretKeyFile).catch(() => undefined);
    throw err;
  }
  return { keyId: pub.id, publicKey: pub.base64, publicKeyFile, secretKeyFile, encrypted: passphrase !== undefined };
}
