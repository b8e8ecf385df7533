/**
 * The entries of `pk3s catalog index`: one per package file of the folder, in the files' sorted order
 * whatever order they finish in. A small package is read, hashed and gunzipped in one synchronous call each
 * (pkg-format's archive-input.ts): the rest is JavaScript on this thread. A few packages are in flight at
 * once so that big packages, which stream through the thread pool, overlap. (A worker thread reading beside
 * this one was tried: on the shared 2-core machine it added ~0.45 s of CPU and ~50 MiB for a second copy of
 * zod and yaml at 2,000 packages, and no wall time was gained.)
 *
 * Every package is inspected as extraction would check it (digest and size of its bytes, every entry, the
 * checksums, the manifest against its schema), except a package whose bytes are those the previous index
 * lists at the same URL: its digest is computed from the bytes and compared, and when digest and size
 * match, the entry's manifest fields are taken from the previous index instead of reading the manifest
 * again. The previous index is this folder's own published index (the `--out` path), so that is what
 * the same bytes gave last time. A changed package (same name and version, other bytes) is read in full.
 *
 * Failures are deterministic: the first failing file in sorted order decides the error, as when the files
 * were read one after the other; files after it are not started, and nothing is written.
 */
import { sha256FileHex } from "@productive-k3s/pkg-format/digest";
import { NotFoundError, UsageError } from "@productive-k3s/pkg-format/errors";
import { inspectPackage } from "@productive-k3s/pkg-format/inspect";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { settleBounded } from "./bounded-map.js";
import { entryFieldsFromManifest } from "./manifest-entry.js";

/** Packages in flight at once: a big package's streamed reads overlap the others' scans; each holds at most one small file. */
const IN_FLIGHT = 8;

export interface PackageFileEntry {
  file: string;
  /** The manifest fields, URL, digest and size (no publisher metadata). */
  entry: CatalogEntry;
  /** Taken from the previous index (same URL, same bytes): the manifest was not read again. */
  reused: boolean;
}

/** The entry fields a package's manifest gives, as the previous index holds them (see `entryFieldsFromManifest`). */
function manifestFieldsOf(old: CatalogEntry, at: { url: string; digest: string; size: number }): CatalogEntry {
  return {
    name: old.name,
    version: old.version,
    type: old.type,
    url: at.url,
    digest: at.digest,
    size: at.size,
    ...(old.description === undefined ? {} : { description: old.description }),
    ...(old.category === undefined ? {} : { category: old.category }),
    ...(old.type === "addon" && old.dependencies !== undefined ? { dependencies: old.dependencies } : {}),
    ...(old.type === "addon" && old.compatibility !== undefined ? { compatibility: old.compatibility } : {}),
    ...(old.type === "profile" && old.inputs !== undefined ? { inputs: old.inputs } : {}),
    ...(old.type === "profile" && old.engine !== undefined ? { engine: old.engine } : {}),
  } as CatalogEntry;
}

/** The digest and size of a package file (a small one hashed from one read, a big one streamed). */
async function digestOf(file: string): Promise<{ digest: string; size: number }> {
  try {
    const { hex, size } = await sha256FileHex(file);
    return { digest: `sha256:${hex}`, size };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`package file not found: ${file}`, { where: file });
    throw err;
  }
}

async function readOne(file: string, url: string, previous: ReadonlyMap<string, CatalogEntry>): Promise<PackageFileEntry> {
  const old = previous.get(url);
  if (old?.digest !== undefined) {
    const at = await digestOf(file);
    if (at.digest === old.digest && at.size === old.size) return { file, entry: manifestFieldsOf(old, { url, ...at }), reused: true };
  }
  const inspected = await inspectPackage(file);
  const entry = entryFieldsFromManifest(inspected.kind, inspected.manifest, { url, digest: inspected.digest, size: inspected.size });
  return { file, entry, reused: false };
}

/** `type/name@version`: what may appear once in an index. */
export const entryId = (e: { type: string; name: string; version: string }): string => `${e.type}/${e.name}@${e.version}`;

/**
 * The entries of `files` (sorted), each at `urlOf(file)`; `previous` maps the URLs of the previous index to
 * its entries. Throws what reading them one after the other would: the error of the first file in `files`
 * order that fails, or is a package version an earlier file already holds.
 */
export async function readPackageEntries(
  files: readonly string[],
  urlOf: (file: string) => string,
  previous: ReadonlyMap<string, CatalogEntry>,
): Promise<PackageFileEntry[]> {
  const settled = await settleBounded(files, IN_FLIGHT, (file) => readOne(file, urlOf(file), previous));
  const results: PackageFileEntry[] = [];
  const seen = new Map<string, string>();
  for (const s of settled) {
    if (!s.ok) throw s.error;
    const { entry, file } = s.value;
    const id = entryId(entry);
    const earlier = seen.get(id);
    if (earlier !== undefined)
      throw new UsageError(`${id} is in both ${earlier} and ${file}`, { hint: "keep one file per package version" });
    seen.set(id, file);
    results.push(s.value);
  }
  return results;
}
