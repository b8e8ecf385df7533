/**
 * On-disk cache of catalog indexes: `<cacheDir>/catalogs/<sha256(url)>/`
 * holds `index.yaml` as served, `meta.json` (validators, fetch time, digest
 * of the index) and `entries-<sha256>.ndjson`, the parsed and normalised
 * entries of that exact index, read instead of re-parsing the YAML: a header
 * line, then one entry per line, so a search can find its candidates in the
 * raw text and parse only those lines (100,000 entries: tens of ms instead of
 * a 30 MB JSON.parse). `file-stat.json` maps a local index's stat identity to
 * its digest, so an unchanged local file is neither re-read nor re-hashed.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import type { Problem } from "@productive-k3s/pkg-format/errors";
import { cacheDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";

export interface CatalogMeta {
  url: string;
  etag?: string | undefined;
  lastModified?: string | undefined;
  /** ISO time of the last successful fetch or 304 revalidation. */
  fetchedAt: string;
  /** sha256 hex of index.yaml. */
  sha256: string;
}

export interface ParsedIndex {
  sha256: string;
  entries: CatalogEntry[];
  warnings: Problem[];
  generated?: string | undefined;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function catalogCacheDir(url: string): string {
  return join(cacheDir(), "catalogs", sha256Hex(url));
}

export async function readMeta(url: string): Promise<CatalogMeta | undefined> {
  try {
    const meta = await readJsonFile<CatalogMeta>(join(catalogCacheDir(url), "meta.json"));
    return meta?.url === url ? meta : undefined;
  } catch {
    return undefined; // a corrupt cache is just a miss
  }
}

export async function readCachedIndex(url: string, meta: CatalogMeta): Promise<string | undefined> {
  try {
    const text = await readFile(join(catalogCacheDir(url), "index.yaml"), "utf8");
    return sha256Hex(text) === meta.sha256 ? text : undefined;
  } catch {
    return undefined;
  }
}

export async function writeFetchedIndex(
  url: string,
  text: string,
  validators: { etag?: string | undefined; lastModified?: string | undefined },
): Promise<CatalogMeta> {
  const dir = await ensurePrivateDir(catalogCacheDir(url));
  const meta: CatalogMeta = { url, ...validators, fetchedAt: new Date().toISOString(), sha256: sha256Hex(text) };
  await writeFileAtomic(join(dir, "index.yaml"), text);
  await writeJsonAtomic(join(dir, "meta.json"), meta);
  return meta;
}

export async function touchMeta(
  url: string,
  meta: CatalogMeta,
  validators: { etag?: string | undefined; lastModified?: string | undefined },
): Promise<CatalogMeta> {
  const next: CatalogMeta = { ...meta, ...validators, fetchedAt: new Date().toISOString() };
  await writeJsonAtomic(join(catalogCacheDir(url), "meta.json"), next);
  return next;
}

/** A prefilter for readCompact: only entries whose serialised line contains `needle` (lowercase) are parsed. */
export interface CompactQuery {
  needle?: string | undefined;
}

const COMPACT_FORMAT = 2;

interface CompactHeader {
  format: number;
  sha256: string;
  warnings: Problem[];
  generated?: string | undefined;
}

function compactFile(url: string, sha256: string): string {
  return join(catalogCacheDir(url), `entries-${sha256}.ndjson`);
}

/**
 * The cached entries of the index with this digest, or undefined on a miss.
 * With `query.needle`, only entries whose line contains it are returned (a
 * prefilter: callers still check the fields they search).
 */
export async function readCompact(url: string, sha256: string, query: CompactQuery = {}): Promise<ParsedIndex | undefined> {
  let text: string;
  try {
    text = await readFile(compactFile(url, sha256), "utf8");
  } catch {
    return undefined;
  }
  try {
    const headerEnd = text.indexOf("\n");
    if (headerEnd < 0) return undefined;
    const header = JSON.parse(text.slice(0, headerEnd)) as CompactHeader;
    if (header.format !== COMPACT_FORMAT || header.sha256 !== sha256) return undefined;
    const entries: CatalogEntry[] = [];
    const needle = query.needle;
    // JSON escapes quotes, backslashes and control characters, and toLowerCase may change the length of
    // some non-ASCII text: in those cases every line is parsed and filtered after parsing instead.
    const escapes = needle !== undefined && JSON.stringify(needle).slice(1, -1) !== needle;
    const lower = needle === undefined || needle === "" || escapes ? undefined : text.toLowerCase();
    if (lower !== undefined && needle !== undefined && lower.length === text.length) {
      let from = headerEnd + 1;
      for (let hit = lower.indexOf(needle, from); hit !== -1; hit = lower.indexOf(needle, from)) {
        const start = text.lastIndexOf("\n", hit) + 1;
        const nl = text.indexOf("\n", hit);
        const end = nl === -1 ? text.length : nl;
        entries.push(JSON.parse(text.slice(start, end)) as CatalogEntry);
        from = end + 1;
      }
    } else {
      for (let start = headerEnd + 1; start < text.length; ) {
        const nl = text.indexOf("\n", start);
        const end = nl === -1 ? text.length : nl;
        if (end > start) entries.push(JSON.parse(text.slice(start, end)) as CatalogEntry);
        start = end + 1;
      }
    }
    return { sha256, entries, warnings: header.warnings, generated: header.generated };
  } catch {
    return undefined; // a corrupt cache is just a miss
  }
}

export async function writeCompact(url: string, parsed: ParsedIndex): Promise<void> {
  const dir = await ensurePrivateDir(catalogCacheDir(url));
  const header: CompactHeader = { format: COMPACT_FORMAT, sha256: parsed.sha256, warnings: parsed.warnings, generated: parsed.generated };
  const lines = [JSON.stringify(header), ...parsed.entries.map((e) => JSON.stringify(e))];
  const keep = `entries-${parsed.sha256}.ndjson`;
  await writeFileAtomic(join(dir, keep), `${lines.join("\n")}\n`);
  for (const name of await readdir(dir)) {
    if (name.startsWith("entries-") && name !== keep) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/** Identity of a local index file: unchanged device, inode, size and times mean unchanged content. */
export interface FileStatKey {
  key: string;
  sha256: string;
}

export async function readFileStatKey(url: string): Promise<FileStatKey | undefined> {
  try {
    return await readJsonFile<FileStatKey>(join(catalogCacheDir(url), "file-stat.json"));
  } catch {
    return undefined;
  }
}

export async function writeFileStatKey(url: string, value: FileStatKey): Promise<void> {
  const dir = await ensurePrivateDir(catalogCacheDir(url));
  await writeJsonAtomic(join(dir, "file-stat.json"), value);
}
