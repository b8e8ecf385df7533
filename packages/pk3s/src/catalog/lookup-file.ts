/**
 * The lookup file beside a cached catalog's entries file: a header line
 * (`pk3s-lookup <format> <sha256> <entries bytes>`), then one line per entry:
 * `<byte offset>\t<byte length>\t<name>\t<name, description and category
 * lowercased, tab-separated>`, sorted by name (bytes) for a binary search by
 * name. A search scans these few megabytes instead of the whole entries file
 * and parses only the lines it hits. Tabs and line breaks inside the fields
 * become spaces, so a needle with one of them takes the full path.
 */
import { readFileSync } from "node:fs";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import type { CompactQuery } from "./catalog-query.js";

const NL = 0x0a;
const TAB = 0x09;

const searchable = (s: string | undefined): string => (s ?? "").toLowerCase().replace(/[\t\n\r]/g, " ");

function header(format: number, sha256: string, entriesSize: number): string {
  return `pk3s-lookup ${format} ${sha256} ${entriesSize}`;
}

/** One entry's place in the entries file. */
export interface LookupRow {
  entry: CatalogEntry;
  offset: number;
  length: number;
}

/** The lookup file's text for entries laid out as `rows` in an entries file of `entriesSize` bytes. */
export function lookupText(format: number, sha256: string, entriesSize: number, rows: readonly LookupRow[]): string {
  const lines = rows.map(({ entry: e, offset, length }) => ({
    name: Buffer.from(e.name, "utf8"),
    line: `${offset}\t${length}\t${e.name}\t${searchable(e.name)}\t${searchable(e.description)}\t${searchable(e.category)}\n`,
  }));
  lines.sort((x, y) => Buffer.compare(x.name, y.name)); // stable: one name's lines stay in entry order
  return `${header(format, sha256, entriesSize)}\n${lines.map((l) => l.line).join("")}`;
}

/**
 * Lookup files read by this process, by path: dependency resolution asks again for every new layer of names,
 * and a lookup file never changes under its digest-named path.
 */
const memo = new Map<string, Buffer | null>();

function readLookup(file: string, expectedHeader: string): { data: Buffer; headerEnd: number } | undefined {
  let data = memo.get(file);
  if (data === undefined) {
    try {
      // One synchronous read of a few MB beats a threadpool round trip per 512 KiB chunk.
      data = readFileSync(file);
    } catch {
      data = null;
    }
    memo.set(file, data);
  }
  if (data === null) return undefined;
  const headerEnd = data.indexOf(NL);
  if (headerEnd < 0 || data.toString("utf8", 0, headerEnd) !== expectedHeader) return undefined;
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

/**
 * [offset, length] of each entry line the query selects, in file order; undefined when the lookup file
 * cannot be used (missing, or describing another entries file).
 */
export function selectFromLookup(
  file: string,
  format: number,
  sha256: string,
  entriesSize: number,
  query: CompactQuery,
): [number, number][] | undefined {
  const needle = query.needle;
  if (needle !== undefined && /[\t\n\r]/.test(needle)) return undefined;
  const lookup = readLookup(file, header(format, sha256, entriesSize));
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
