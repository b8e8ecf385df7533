/**
 * The highest signed-index serial this machine has accepted per catalog URL,
 * with the digest of that index: `<stateDir>/pk3s/catalog-serials/<sha256(url)>.json`
 * (0600, written atomically). It outlives the cache and the catalog's
 * configuration, so removing and re-adding a catalog does not reopen the
 * door to an older index. A record only ever moves up.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import { ensurePrivateDir, stateDir } from "@productive-k3s/pkg-format/paths";

export interface SerialRecord {
  url: string;
  serial: number;
  /** sha256 hex of the index accepted at that serial. */
  sha256: string;
  acceptedAt: string;
}

function recordDir(): string {
  return join(stateDir(), "pk3s", "catalog-serials");
}

function recordFile(url: string): string {
  return join(recordDir(), `${createHash("sha256").update(url).digest("hex")}.json`);
}

export async function readSerialRecord(url: string): Promise<SerialRecord | undefined> {
  const record = await readJsonFile<SerialRecord>(recordFile(url));
  return record?.url === url && Number.isSafeInteger(record.serial) ? record : undefined;
}

/** Remember `serial` for `url` unless a higher one is already recorded (re-read just before writing). */
export async function raiseSerialRecord(url: string, serial: number, sha256: string): Promise<void> {
  const current = await readSerialRecord(url);
  if (current !== undefined && current.serial >= serial) return;
  await ensurePrivateDir(recordDir());
  const record: SerialRecord = { url, serial, sha256, acceptedAt: new Date().toISOString() };
  await writeJsonAtomic(recordFile(url), record, { mode: 0o600 });
}
