/**
 * On-disk cache of catalog indexes: `<cacheDir>/catalogs/<sha256(url)>/`
 * holds `index.yaml` as served, `meta.json` (validators, fetch time, digest
 * of the index), `entries-<sha256>.ndjson`, the parsed and normalised
 * entries of that exact index, read instead of re-parsing the YAML (a header
 * line, then one entry per line), and `lookup-<sha256>.tsv`, which lets a
 * search or a lookup by name read only the lines it needs (100,000 entries:
 * a few MB scanned instead of a 28 MB parse). `file-stat.json` maps a local index's stat identity to
 * its digest, so an unchanged local file is neither re-read nor re-hashed.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type FileHandle, open, readdir, readFile, unlink } from "node:fs/promises";
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

/**
 * What readCompact reads. `needle` (lowercase): only entries whose name, description or category may contain
 * it (a superset prefilter: callers still check the fields they search). `names`: only entries with these
 * exact names (dependency resolution asks for the names it reaches).
 */
export interface CompactQuery {
  needle?: string | undefined;
  names?: ReadonlySet<string> | undefined;
}

const COMPACT_FORMAT = 3;

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
 * The lookup file beside the entries: a header line (`pk3s-lookup <format> <sha256> <entries bytes>`), then
 * one line per entry: `<byte offset>\t<byte length>\t<name>\t<name, description and
 * category lowercased, tab-separated>`, sorted by name (bytes) for a binary search by name. A search scans these few megabytes instead of the whole entries file
 * and parses only the lines it hits. Tabs and line breaks inside the fields become spaces, so a needle with one
 * of them takes the full path.
 */
function lookupFile(url: string, sha256: string): string {
  return join(catalogCacheDir(url), `lookup-${sha256}.tsv`);
}

const searchable = (s: string | undefined): string => (s ?? "").toLowerCase().replace(/[\t\n\r]/g, " ");

/**
 * The selection on a parsed entry (no usable lookup file, or a cold parse): the fields search checks, lower-cased
 * as it does. Tabs and line breaks are kept here, so a needle holding one still finds its entry.
 */
export function selects(query: CompactQuery, e: CatalogEntry): boolean {
  const needle = query.needle;
  return (
    (query.names === undefined || query.names.has(e.name)) &&
    (needle === undefined || [e.name, e.description, e.category].some((f) => (f ?? "").toLowerCase().includes(needle)))
  );
}

function parseLines(text: string, from: number, into: CatalogEntry[]): void {
  for (let start = from; start < text.length; ) {
    const nl = text.indexOf("\n", start);
    const end = nl === -1 ? text.length : nl;
    if (end > start) into.push(JSON.parse(text.slice(start, end)) as CatalogEntry);
    start = end + 1;
  }
}

const NL = 0x0a;
const TAB = 0x09;

/**
 * Lookup files read by this process, by path: dependency resolution asks again for every new layer of names,
 * and a lookup file never changes under its digest-named path.
 */
const lookupMemo = new Map<string, Buffer | null>();

function readLookup(url: string, sha256: string, entriesSize: number): { data: Buffer; headerEnd: number } | undefined {
  const file = lookupFile(url, sha256);
  let data = lookupMemo.get(file);
  if (data === undefined) {
    try {
      // One synchronous read of a few MB beats a threadpool round trip per 512 KiB chunk.
      data = readFileSync(file);
    } catch {
      data = null;
    }
    lookupMemo.set(file, data);
  }
  if (data === null) return undefined;
  const headerEnd = data.indexOf(NL);
  if (headerEnd < 0 || data.toString("utf8", 0, headerEnd) !== `pk3s-lookup ${COMPACT_FORMAT} ${sha256} ${entriesSize}`) return undefined;
  return { data, headerEnd };
}

/** The name field of the lookup line starting at `lineStart` (the third tab-separated field). */
function nameAt(data: Buffer, lineStart: number): Buffer {
  const t1 = data.indexOf(TAB, lineStart);
  const t2 = data.indexOf(TAB, t1 + 1);
  return data.subarray(t2 + 1, data.indexOf(TAB, t2 + 1));
}

/** Start of the first line (at or after `from`) whose name sorts at or after `name`: lines are sorted by name bytes. */
function firstLineNamed(data: Buffer, from: number, name: Buffer): number {
  let lo = from;
  let hi = data.length;
  while (lo < hi) {
    const lineStart = data.lastIndexOf(NL, ((lo + hi) >>> 1) - 1) + 1;
    if (Buffer.compare(nameAt(data, lineStart), name) < 0) lo = data.indexOf(NL, lineStart) + 1;
    else hi = lineStart;
  }
  return lo;
}

/** [offset, length] of each entry line the query selects, in file order; undefined when the lookup cannot be used. */
function selectFromLookup(url: string, sha256: string, query: CompactQuery, entriesSize: number): [number, number][] | undefined {
  const needle = query.needle;
  if (needle !== undefined && /[\t\n\r]/.test(needle)) return undefined;
  const lookup = readLookup(url, sha256, entriesSize);
  if (lookup === undefined) return undefined;
  const { data, headerEnd } = lookup;
  const ranges: [number, number][] = [];
  const take = (lineStart: number): number => {
    const nl = data.indexOf(NL, lineStart);
    const lineEnd = nl === -1 ? data.length : nl;
    const [offset, length, name, ...fields] = data.toString("utf8", lineStart, lineEnd).split("\t");
    const wanted =
      (query.names === undefined || (name !== undefined && query.names.has(name))) &&
      (needle === undefined || fields.some((f) => f.includes(needle)));
    if (wanted) ranges.push([Number(offset), Number(length)]);
    return lineEnd + 1;
  };
  if (query.names !== undefined) {
    // Binary search per name: a handful of names out of 100,000 lines costs microseconds.
    for (const name of query.names) {
      const bytes = Buffer.from(name, "utf8");
      for (let at = firstLineNamed(data, headerEnd + 1, bytes); at < data.length && nameAt(data, at).equals(bytes); ) at = take(at);
    }
  } else if (needle !== undefined && needle !== "") {
    // The bytes are searched as they are (UTF-8 is self-synchronising: a byte match is a character match);
    // only the lines with a hit are decoded, and a line is taken once however often the needle occurs in it.
    const bytes = Buffer.from(needle, "utf8");
    let from = headerEnd + 1;
    for (let hit = data.indexOf(bytes, from); hit !== -1; hit = data.indexOf(bytes, from)) {
      from = take(data.lastIndexOf(NL, hit) + 1);
    }
  } else {
    for (let from = headerEnd + 1; from < data.length; ) from = take(from);
  }
  return ranges.sort((x, y) => x[0] - y[0]);
}

/**
 * The cached entries of the index with this digest, or undefined on a miss.
 * With a query, only the entries it selects are parsed (see CompactQuery).
 */
export async function readCompact(url: string, sha256: string, query: CompactQuery = {}): Promise<ParsedIndex | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(compactFile(url, sha256), "r");
  } catch {
    return undefined;
  }
  try {
    const size = (await handle.stat()).size;
    // The header line: format, digest, warnings (small, but read in growing steps to be safe).
    let head = "";
    for (let want = 64 * 1024; ; want *= 4) {
      const buf = Buffer.alloc(Math.min(want, size));
      const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead).toString("utf8");
      if (head.includes("\n") || bytesRead >= size) break;
    }
    const headerEnd = head.indexOf("\n");
    if (headerEnd < 0) return undefined;
    const header = JSON.parse(head.slice(0, headerEnd)) as CompactHeader;
    if (header.format !== COMPACT_FORMAT || header.sha256 !== sha256) return undefined;
    const selective = query.names !== undefined || (query.needle !== undefined && query.needle !== "");
    const ranges = selective ? selectFromLookup(url, sha256, query, size) : undefined;
    let entries: CatalogEntry[] = [];
    if (ranges !== undefined) {
      for (const [offset, length] of ranges) {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buf, 0, length, offset);
        if (bytesRead !== length) return undefined;
        entries.push(JSON.parse(buf.toString("utf8")) as CatalogEntry);
      }
    } else {
      parseLines((await handle.readFile()).toString("utf8"), headerEnd + 1, entries);
      // No usable lookup file: the same selection, made on the parsed entries.
      if (selective) entries = entries.filter((e) => selects(query, e));
    }
    return { sha256, entries, warnings: header.warnings, generated: header.generated };
  } catch {
    return undefined; // a corrupt cache is just a miss
  } finally {
    await handle.close();
  }
}

export async function writeCompact(url: string, parsed: ParsedIndex): Promise<void> {
  const dir = await ensurePrivateDir(catalogCacheDir(url));
  const header: CompactHeader = { format: COMPACT_FORMAT, sha256: parsed.sha256, warnings: parsed.warnings, generated: parsed.generated };
  const headerLine = `${JSON.stringify(header)}\n`;
  const lines: string[] = [headerLine];
  const lookup: { name: Buffer; line: string }[] = [];
  let offset = Buffer.byteLength(headerLine);
  for (const e of parsed.entries) {
    const line = JSON.stringify(e);
    const length = Buffer.byteLength(line);
    lines.push(`${line}\n`);
    lookup.push({
      name: Buffer.from(e.name, "utf8"),
      line: `${offset}\t${length}\t${e.name}\t${searchable(e.name)}\t${searchable(e.description)}\t${searchable(e.category)}\n`,
    });
    offset += length + 1;
  }
  lookup.sort((x, y) => Buffer.compare(x.name, y.name)); // stable: one name's lines stay in entry order
  // Entries first, then the lookup that points into them: a lookup file always describes a complete entries file.
  const entriesName = `entries-${parsed.sha256}.ndjson`;
  const lookupName = `lookup-${parsed.sha256}.tsv`;
  await writeFileAtomic(join(dir, entriesName), lines.join(""));
  await writeFileAtomic(
    join(dir, lookupName),
    `pk3s-lookup ${COMPACT_FORMAT} ${parsed.sha256} ${offset}\n${lookup.map((l) => l.line).join("")}`,
  );
  for (const name of await readdir(dir)) {
    if ((name.startsWith("entries-") || name.startsWith("lookup-")) && name !== entriesName && name !== lookupName) {
      await unlink(join(dir, name)).catch(() => undefined);
    }
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
