/**
 * The publisher's secret key: from a file that only its owner can read
 * (`--sign-key FILE`, mode 0600 like minisign writes it) or from the
 * environment (`PK3S_SIGNING_KEY`: the key file's text, or its base64 line),
 * never from the command line, never printed. An encrypted key's passphrase
 * comes from `PK3S_SIGNING_PASSPHRASE` or the first line of stdin
 * (`--passphrase-stdin`).
 */
import { readFile, stat } from "node:fs/promises";
import { NotFoundError, UsageError } from "@productive-k3s/pkg-format/errors";
import type { MinisignSecretKey } from "@productive-k3s/pkg-format/minisign";

export const SIGNING_KEY_ENV = "PK3S_SIGNING_KEY";
export const PASSPHRASE_ENV = "PK3S_SIGNING_PASSPHRASE";

export interface PassphraseInput {
  /** Read the passphrase from the first line of stdin. */
  passphraseStdin?: boolean | undefined;
}

export interface SigningKeyInput extends PassphraseInput {
  /** `--sign-key FILE`; else PK3S_SIGNING_KEY. */
  keyFile?: string | undefined;
}

export interface SigningKey {
  key: MinisignSecretKey;
  /** Where it came from, for messages: the file, or `$PK3S_SIGNING_KEY`. Never the key. */
  source: string;
}

let stdinLine: Promise<string> | undefined;

/** The first line of stdin (read once per process). */
function readStdinLine(): Promise<string> {
  stdinLine ??= (async () => {
    let text = "";
    for await (const chunk of process.stdin) {
      text += String(chunk);
      if (text.includes("\n")) break;
    }
    const line = text.split("\n")[0] ?? "";
    return line.endsWith("\r") ? line.slice(0, -1) : line;
  })();
  return stdinLine;
}

/** The passphrase the user provided (stdin first, then the environment), or undefined. */
export async function providedPassphrase(input: PassphraseInput): Promise<string | undefined> {
  if (input.passphraseStdin === true) {
    const line = await readStdinLine();
    if (line === "") throw new UsageError("--passphrase-stdin: stdin gave an empty passphrase");
    return line;
  }
  const fromEnv = process.env[PASSPHRASE_ENV];
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}

async function keyText(input: SigningKeyInput): Promise<{ text: string; source: string }> {
  if (input.keyFile !== undefined) {
    const file = input.keyFile;
    const st = await stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") {
        throw new NotFoundError(`secret key file not found: ${file}`, {
          where: file,
          hint: "create one with: pk3s key generate --out <prefix>",
        });
      }
      throw err;
    });
    if ((st.mode & 0o077) !== 0) {
      throw new UsageError(`${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); a secret key must be private`, {
        where: file,
        hint: `chmod 600 ${file}`,
      });
    }
    return { text: await readFile(file, "utf8"), source: file };
  }
  const fromEnv = process.env[SIGNING_KEY_ENV];
  if (fromEnv === undefined || fromEnv.trim() === "") {
    throw new UsageError("no signing key", {
      hint: `pass --sign-key <file> (a 0600 secret key file) or put the key in $${SIGNING_KEY_ENV}`,
    });
  }
  const text = fromEnv.includes("\n") ? fromEnv : `untrusted comment: from $${SIGNING_KEY_ENV}\n${fromEnv.trim()}\n`;
  return { text, source: `$${SIGNING_KEY_ENV}` };
}

export async function loadSigningKey(input: SigningKeyInput): Promise<SigningKey> {
  const { text, source } = await keyText(input);
  const { parseSecretKeyFile } = await import("@productive-k3s/pkg-format/minisign");
  const file = parseSecretKeyFile(text, source);
  const key = await file.open(file.encrypted ? await providedPassphrase(input) : undefined);
  return { key, source };
}
