/**
 * The lookup file beside a cached catalog's entries file. Line 1:
 * `pk3s-lookup <format> <sha256> <entries bytes>`; line 2: what was learnt
 * about the index as a whole (JSON: warnings, generated, entry count); then
 * one line per entry: `<byte offset>\t<byte length>\t<name>\t<name,
 * description and category lowercased, tab-separated>`, sorted by name (bytes)
 * for a binary search by name. A search scans these few megabytes instead of
 * the whole entries file and parses only the lines it hits. Tabs and line
 * breaks inside the fields become spaces, so a needle with one of them takes
 * the full path.
 */
import { readFileSync, writeSync } from "node:fs";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { compareText } from "@productive-k3s/pkg-format/text-order";
import type { CompactQuery } from "./catalog-query.js";
import type { IndexSummary } from "./entries-file.js";

const NL = 0x0a;
const TAB = 0x09;

const searchable = (s: string | undefined): string => (s ?? "").toLowerCase().replace(/[\t\n\r]/g, " ");

function header(format: number, sha256: string, entriesSize: number): string {
  return `pk3s-lookup ${format} ${sha256} ${entriesSize}`;
}

/** What the first two lines say. */
export interface LookupSummary {
  format: number;
  sha256: string;
  entriesBytes: number;
  summary: IndexSummary;
}

/**
 * The rows of a lookup file, collected as entries are written, sorted and written at the end. The rows'
 * bytes go into one growing buffer as they come (a row held as a string keeps the pieces it was built from:
 * 100,000 rows were tens of MB of small strings), with each row's start; the names, kept for the sort, are
 * the only strings.
 */
export class LookupRows {
  private readonly names: string[] = [];
  private starts = new Uint32Array(1024);
  private bytes = Buffer.allocUnsafe(1 << 20);
  private used = 0;

  get count(): number {
    return this.names.length;
  }

  add(e: CatalogEntry, offset: number, length: number): void {
    const line = `${offset}\t${length}\t${e.name}\t${searchable(e.name)}\t${searchable(e.description)}\t${searchable(e.category)}\n`;
    const size = Buffer.byteLength(line);
    if (this.used + size > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + size));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    const n = this.names.length;
    if (n + 1 >= this.starts.length) {
      const grown = new Uint32Array(this.starts.length * 2);
      grown.set(this.starts);
      this.starts = grown;
    }
    this.starts[n] = this.used;
    this.used += this.bytes.write(line, this.used, "utf8");
    this.starts[n + 1] = this.used;
    this.names.push(e.name);
  }

  /** Write the whole lookup file to `fd`. */
  write(fd: number, lookup: LookupSummary): void {
    const { names, starts, bytes } = this;
    const order = Array.from(names.keys());
    // By name bytes (a binary search compares bytes): for ASCII names, as package names are, the string order.
    const ascii = names.every((n) => Buffer.byteLength(n) === n.length);
    const byName = ascii
      ? (x: number, y: number): number => compareText(names[x]!, names[y]!)
      : (x: number, y: number): number => Buffer.compare(Buffer.from(names[x]!, "utf8"), Buffer.from(names[y]!, "utf8"));
    order.sort((x, y) => byName(x, y) || x - y); // one name's lines stay in entry order
    const out = Buffer.allocUnsafe(1 << 20);
    let filled = out.write(`${header(lookup.format, lookup.sha256, lookup.entriesBytes)}\n${JSON.stringify(lookup.summary)}\n`);
    const flush = (): void => {
      writeSync(fd, out, 0, filled);
      filled = 0;
    };
    for (const i of order) {
      const start = starts[i]!;
      const end = starts[i + 1]!;
      if (filled + (end - start) > out.length) flush();
      if (end - start > out.length) writeSync(fd, bytes, start, end - start);
      else filled += bytes.copy(out, filled, start, end);
    }
    flush();
  }
}

/** A lookup file as read: its bytes, where the rows start, and its summary. */
export interface Lookup extends LookupSummary {
  data: Buffer;
  rowsStart: number;
}

/**
 * Lookup files read by this process, by path: dependency resolution asks again for every new layer of names,
 * and a lookup file never changes under its digest-named path.
 */
const memo = new Map<string, Buffer>();

/** The lookup file of the entries of index `sha256`, or undefined (missing, another index or format, corrupt). */
export function readLookup(file: string, format: number, sha256: string): Lookup | undefined {
  let data = memo.get(file);
  if (data === undefined) {
    try {
      // One synchronous read of a few MB beats a threadpool round trip per 512 KiB chunk.
      data = readFileSync(file);
    } catch {
      return undefined;
    }
    memo.set(file, data);
  }
  const headerEnd = data.indexOf(NL);
  const summaryEnd = headerEnd < 0 ? -1 : data.indexOf(NL, headerEnd + 1);
  if (summaryEnd < 0) return undefined;
  const [magic, f, sha, bytes] = data.toString("utf8", 0, headerEnd).split(" ");
  if (magic !== "pk3s-lookup" || Number(f) !== format || sha !== sha256 || !/^\d+$/.test(bytes ?? "")) return undefined;
  try {
    const summary = JSON.parse(data.toString("utf8", headerEnd + 1, summaryEnd)) as IndexSummary;
    return { format, sha256, entriesBytes: Number(bytes), summary, data, rowsStart: summaryEnd + 1 };
  } catch {
    return undefined;
  }
}

/** Forget what was read from `file` (it is being replaced). */
export function forgetLookup(file: string): void {
  memo.delete(file);
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
    const lineStart = Math.max(from, data.lastIndexOf(NL, ((lo + hi) >>> 1) - 1) + 1);
    if (Buffer.compare(nameAt(data, lineStart), name) < 0) lo = data.indexOf(NL, lineStart) + 1;
    else hi = lineStart;
  }
  return lo;
}

/**
 * [offset, length] of each entry line the query selects, in file order; undefined when the lookup cannot
 * answer the query (a needle with a tab or line break in it).
 */
export function selectFromLookup(lookup: Lookup, query: CompactQuery): [number, number][] | undefined {
  const needle = query.needle;
  if (needle !== undefined && /[\t\n\r]/.test(needle)) return undefined;
  const { data, rowsStart } = lookup;
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
      for (let at = firstLineNamed(data, rowsStart, bytes); at < data.length && nameAt(data, at).equals(bytes); ) at = take(at);
    }
  } else if (needle !== undefined && needle !== "") {
    // The bytes are searched as they are (UTF-8 is self-synchronising: a byte match is a character match);
    // only the lines with a hit are decoded, and a line is taken once however often the needle occurs in it.
    const bytes = Buffer.from(needle, "utf8");
    let from = rowsStart;
    for (let hit = data.indexOf(bytes, from); hit !== -1; hit = data.indexOf(bytes, from)) {
      from = take(Math.max(rowsStart, data.lastIndexOf(NL, hit) + 1));
    }
  } else {
    for (let from = rowsStart; from < data.length; ) from = take(from);
  }
  return ranges.sort((x, y) => x[0] - y[0]);
}
