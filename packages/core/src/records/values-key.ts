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
 *
 * With team state (PostgreSQL), the key is a document in the database beside
 * the records it fingerprints: one key per team, created once under a lock.
 * A key per operator would make every fingerprint another operator wrote
 * unmatchable: their re-installs would count as "values changed" and their
 * rollbacks would refuse the values as different.
 */
import { randomBytes } from "node:crypto";
import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempPathFor } from "@productive-k3s/pkg-format/atomic";
import { LockedError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import { type StateBackend, type StateCollection, type StateLock, stateBackend } from "@productive-k3s/pkg-format/state-backend";
import { z } from "zod";
import { coreStateDir } from "./store.js";

const KEY_BYTES = 32;

export const valuesKeyFile = (): string => join(coreStateDir(), "values.key");

async function readKey(file: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
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
  const backend = await stateBackend();
  return backend.kind === "local" ? localValuesKey(options) : sharedValuesKey(backend, options);
}

async function localValuesKey(options: { create: boolean }): Promise<Buffer | undefined> {
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

const SharedKey = z.object({ key: z.string().regex(new RegExp(`^[0-9a-f]{${KEY_BYTES * 2}}$`), `${KEY_BYTES * 2} hex digits`) });

/** The team's key: scope "", name "values-key" (the local file layout is never used: local state keeps values.key). */
const SHARED_KEYS: StateCollection<z.infer<typeof SharedKey>> = {
  id: "core.values-key",
  label: "values key",
  schema: SharedKey,
  damagedHint: "remove it; a new key is made by the next install (each add-on's next install then re-applies its values once)",
  localFile: () => join("core", "values-key.json"),
  localNamesDir: () => "core",
};
const SHARED_REF = { scope: "", name: "values-key" };
/** How long a first run waits for another one that is creating the key (it holds the lock for one write). */
const CREATE_WAIT_MS = 10_000;

async function sharedValuesKey(backend: StateBackend, options: { create: boolean }): Promise<Buffer | undefined> {
  const read = async () => {
    const doc = await backend.read(SHARED_KEYS, SHARED_REF);
    return doc === undefined ? undefined : Buffer.from(doc.key, "hex");
  };
  const existing = await read();
  if (existing !== undefined || !options.create) return existing;
  const deadline = Date.now() + CREATE_WAIT_MS;
  for (;;) {
    let lock: StateLock;
    try {
      lock = await backend.lock({ key: "core/values-key", localFile: join(coreStateDir(), "values-key.lock") });
    } catch (err) {
      // Another first run is creating it: its key is the one to use.
      if (!(err instanceof LockedError) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
      const theirs = await read();
      if (theirs !== undefined) return theirs;
      continue;
    }
    try {
      const theirs = await read();
      if (theirs !== undefined) return theirs;
      const key = randomBytes(KEY_BYTES);
      await backend.transaction((tx) => tx.write(SHARED_KEYS, SHARED_REF, { key: key.toString("hex") }));
      return key;
    } finally {
      await lock.release();
    }
  }
}
