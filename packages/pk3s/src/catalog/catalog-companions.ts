/**
 * Publisher side of an index's companions (docs/formats.md): the same entries
 * as `index.yaml`, written by `catalog index` and `catalog prune` beside it,
 * so a reader takes them with `JSON.parse` per line instead of parsing YAML:
 *
 *   <stem>.d/<generation>/index.ndjson     every entry (`catalog-ndjson.ts`)
 *   <stem>.d/<generation>/root.json        the shard root (`catalog-shards.ts`)
 *   <stem>.d/<generation>/<key>.ndjson     one shard per sha256(name) prefix
 *
 * The index lists the NDJSON file and the shard root in `companions` with
 * their digest and size, so the index's signature covers them, and the root
 * pins every shard's digest. A generation is named by the NDJSON file's
 * digest: a publication never rewrites a file that the index already in
 * place points at. It is written in a temp folder and renamed into place (a
 * reader sees all of it or none) before the index that names it; earlier
 * generations are removed only once the new index is in place
 * (`removeStaleCompanions`), so a reader holding the previous index finds its
 * companions until then. Entry URLs stay relative to the index, not to the
 * companion. Everything is written as it is produced, in batches of about
 * 1 MiB: no string of the whole catalog is ever built.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { NDJSON_COMPANION_FORMAT, ndjsonEntryLine, ndjsonHeaderLine } from "@productive-k3s/pkg-format/catalog-ndjson";
import { V1_API_VERSION } from "@productive-k3s/pkg-format/catalog-read";
import {
  SHARDS_COMPANION_FORMAT,
  SHARDS_KIND,
  type ShardInfo,
  type ShardRoot,
  shardFileName,
  shardKey,
  shardPrefixFor,
} from "@productive-k3s/pkg-format/catalog-shards";
import type { MinisignSecretKey } from "@productive-k3s/pkg-format/minisign";
import type { CatalogCompanion, CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { compareText } from "@productive-k3s/pkg-format/text-order";
import { writeIndex } from "./index-signing.js";

const NDJSON_FILE = "index.ndjson";
const ROOT_FILE = "root.json";
const BATCH_BYTES = 1 << 20;
/** A generation folder's name: the first 16 hex digits of its NDJSON file's sha256. */
const GENERATION = /^[0-9a-f]{16}$/;

/** The folder of an index's companions: `index.yaml` → `index.d`. */
export function companionsDir(indexFile: string): string {
  return join(dirname(indexFile), `${basename(indexFile).replace(/\.(ya?ml|json)$/i, "")}.d`);
}

interface Written {
  digest: string;
  size: number;
}

/** Write `lines` (each followed by a newline) to a new file, in batches, hashing as it goes. */
async function writeLines(file: string, lines: Iterable<string>): Promise<Written> {
  const hash = createHash("sha256");
  const handle = await open(file, "wx", 0o644);
  let size = 0;
  try {
    let batch: string[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      const buf = Buffer.from(batch.join(""), "utf8");
      batch = [];
      bytes = 0;
      hash.update(buf);
      size += buf.byteLength;
      await handle.write(buf);
    };
    for (const line of lines) {
      batch.push(line, "\n");
      bytes += line.length + 1;
      if (bytes >= BATCH_BYTES) await flush();
    }
    await flush();
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { digest: `sha256:${hash.digest("hex")}`, size };
}

function* entryLines(header: string, entries: readonly CatalogEntry[], indexes?: readonly number[]): Generator<string> {
  yield header;
  if (indexes === undefined) for (const e of entries) yield ndjsonEntryLine(e);
  else for (const i of indexes) yield ndjsonEntryLine(entries[i]!);
}

/** The entries' positions grouped by shard key, in entry order within a shard. */
function shardsOf(entries: readonly CatalogEntry[], prefix: number): Map<string, number[]> {
  const keys = new Map<string, string>();
  const shards = new Map<string, number[]>();
  entries.forEach((e, i) => {
    let key = keys.get(e.name);
    if (key === undefined) {
      key = shardKey(e.name, prefix);
      keys.set(e.name, key);
    }
    const list = shards.get(key);
    if (list === undefined) shards.set(key, [i]);
    else list.push(i);
  });
  return new Map([...shards].sort(([a], [b]) => compareText(a, b)));
}

/**
 * Write the companions of an index holding `entries` (in the index's order) and return the `companions` list
 * the index must carry. Nothing is visible until the generation folder is complete.
 */
export async function writeCompanions(indexFile: string, entries: readonly CatalogEntry[], generated: string): Promise<CatalogCompanion[]> {
  const root = companionsDir(indexFile);
  await mkdir(root, { recursive: true });
  const tmp = join(root, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  await mkdir(tmp);
  try {
    const ndjson = await writeLines(join(tmp, NDJSON_FILE), entryLines(ndjsonHeaderLine({ generated, entries: entries.length }), entries));
    const prefix = shardPrefixFor(entries.length);
    const shards: Record<string, ShardInfo> = {};
    for (const [key, indexes] of shardsOf(entries, prefix)) {
      const header = ndjsonHeaderLine({ generated, entries: indexes.length });
      const written = await writeLines(join(tmp, shardFileName(key)), entryLines(header, entries, indexes));
      shards[key] = { ...written, entries: indexes.length };
    }
    const shardRoot: ShardRoot = { apiVersion: V1_API_VERSION, kind: SHARDS_KIND, generated, prefix, entries: entries.length, shards };
    const rootWritten = await writeLines(join(tmp, ROOT_FILE), [JSON.stringify(shardRoot)]);
    const generation = ndjson.digest.slice("sha256:".length, "sha256:".length + 16);
    const target = join(root, generation);
    try {
      await rename(tmp, target);
    } catch (err) {
      // The same generation is already in place (same entries, same `generated`): its files are these bytes.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      await rm(tmp, { recursive: true, force: true });
    }
    const at = `${basename(root)}/${generation}`;
    return [
      { url: `${at}/${NDJSON_FILE}`, digest: ndjson.digest, size: ndjson.size, format: NDJSON_COMPANION_FORMAT },
      { url: `${at}/${ROOT_FILE}`, digest: rootWritten.digest, size: rootWritten.size, format: SHARDS_COMPANION_FORMAT },
    ];
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Remove the generations that `companions`, now in place, no longer name. */
async function removeStaleCompanions(indexFile: string, companions: readonly CatalogCompanion[]): Promise<void> {
  const root = companionsDir(indexFile);
  const keep = new Set(companions.map((c) => c.url.split("/").at(-2)));
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return;
  }
  for (const name of names) {
    if (GENERATION.test(name) && !keep.has(name)) await rm(join(root, name), { recursive: true, force: true });
  }
}

/**
 * Publish a v1 index: its companions first, then the index naming them (with `key`, signed), then the
 * generations it no longer names. The one way `catalog index` and `catalog prune` write an index.
 */
export async function publishIndex(
  out: string,
  envelope: Record<string, unknown> & { generated: string },
  entries: readonly CatalogEntry[],
  key: MinisignSecretKey | undefined,
): Promise<void> {
  const companions = await writeCompanions(out, entries, envelope.generated);
  await writeIndex(out, { ...envelope, companions, entries }, key);
  await removeStaleCompanions(out, companions);
}
