/**
 * The key of the values fingerprints: 32 random bytes, hex, in
 * `<state>/core/values.key` (0600, directory 0700), one per installation.
 *
 * Without a key, the fingerprint stored in record.json would be a plain hash
 * of the `--set` values: anyone who can read the record could test guesses of
 * a secret offline. The key stays beside the records, so it protects copies
 * of records (backups, bug reports, team state) rather than the state
 * directory as a whole.
 *
 * Created atomically and only once: the complete file is hard-linked into
 * place, so two first runs agree on one key (the loser of the race reads the
 * winner's). Removing the file only makes every add-on count as "values
 * changed" once (the next install re-applies them).
 */
import { randomBytes } from "node:crypto";
import { link, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readTextIfExists, tempPathFor } from "@productive-k3s/pkg-format/atomic";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import { coreStateDir } from "./store.js";

const KEY_BYTES = 32;

export const valuesKeyFile = (): string => join(coreStateDir(), "values.key");

async function readKey(file: string): Promise<Buffer | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const hex = text.trim();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length !== KEY_BYTES * 2) {
    throw new ValidationError(`the values key ${file} is damaged: expected ${KEY_BYTES * 2} hex digits`, [], {
      where: file,
      hint: "remove it; a new key is made by the next install (each add-on's next install then re-applies its values once)",
    });
  }
  return Buffer.from(hex, "hex");
}

/**
 * The installation's key. With `create: false` (dry runs change nothing) a
 * missing key gives undefined: no stored fingerprint can match then anyway.
 */
export async function valuesKey(options: { create: boolean }): Promise<Buffer | undefined> {
  const file = valuesKeyFile();
  const existing = await readKey(file);
  if (existing !== undefined || !options.create) return existing;
  await ensurePrivateDir(coreStateDir());
  const key = randomBytes(KEY_BYTES);
  const tmp = tempPathFor(file);
  await writeFile(tmp, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx", flush: true });
  try {
    await link(tmp, file);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    // Another run made it first: use its key.
    const theirs = await readKey(file);
    if (theirs === undefined) throw err;
    return theirs;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
