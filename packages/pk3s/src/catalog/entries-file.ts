/**
 * The parsed entries of a cached index: `entries-<key>.ndjson`, one
 * normalised entry per line, written as the index is read (`EntriesWriter`:
 * no list of every entry is kept in memory), and beside it its lookup file
 * (`lookup-file.ts`), which also carries what was learnt about the index as a
 * whole (digest, parse warnings, `generated`). A query parses only the lines
 * the lookup selects. The pair is written to temp files and renamed into place
 * lookup last, so a lookup file always describes a complete entries file; one
 * without the other is a miss.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { tempPathFor } from "@productive-k3s/pkg-format/atomic";
import type { Problem } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { type CompactQuery, isSelective, selects } from "./catalog-query.js";
import { forgetLookup, LookupRows, type LookupSummary, readLookup, selectFromLookup } from "./lookup-file.js";

/**
 * Bumped whenever the entries or lookup layout changes, or the parser reads an index differently: older files are
 * then misses (4: v1alpha1 `kind: stack` entries are read, where 3 left them out; 5: the lookup rows of the
 * line-by-line reader; 6: both together).
 */
export const FORMAT = 6;

/** An index as parsed: its digest, normalised entries (those a query selected) and the parser's warnings. */
export interface ParsedIndex {
  sha256: string;
  entries: CatalogEntry[];
  warnings: Problem[];
  generated?: string | undefined;
  /** How many entries the index has (also those a query left out). */
  total?: number | undefined;
  /** The signing fields of the index, checked for catalogs with trusted keys. */
  serial?: number | undefined;
  expires?: string | undefined;
}

/** What the lookup file records about the index as a whole. */
export type IndexSummary = Omit<ParsedIndex, "entries" | "sha256">;

/** What a signed catalog's checks look at: the index as a whole (digest, serial, expiry), not its entries. */
export type AdmittedIndex = Omit<ParsedIndex, "entries">;

const FLUSH_BYTES = 1 << 20;

/**
 * Entries written one by one as they are accepted; `commit` makes the pair visible under the index's key.
 * Nothing is visible before `commit`, and `abort` leaves nothing behind. Each entry's line is copied at once
 * into one staging buffer, written out when full: its string dies young (lines held until a flush outlived
 * the young generation and were tens of MB of garbage for a full GC at 100,000 entries).
 */
export class EntriesWriter {
  private readonly tmpEntries: string;
  private readonly tmpLookup: string;
  private readonly fd: number;
  private staged = Buffer.allocUnsafe(FLUSH_BYTES);
  private stagedBytes = 0;
  private offset = 0;
  private readonly rows = new LookupRows();
  private closed = false;

  /** Temp files are made beside these paths (their final names are given to `commitAs`). */
  constructor(entriesFile: string, lookupFile: string) {
    this.tmpEntries = tempPathFor(entriesFile);
    this.tmpLookup = tempPathFor(lookupFile);
    this.fd = openSync(this.tmpEntries, "wx", 0o600);
  }

  get count(): number {
    return this.rows.count;
  }

  add(entry: CatalogEntry): void {
    const line = `${JSON.stringify(entry)}\n`;
    const length = Buffer.byteLength(line);
    this.rows.add(entry, this.offset, length - 1);
    this.offset += length;
    if (this.stagedBytes + length > this.staged.length) {
      this.flush();
      if (length > this.staged.length) this.staged = Buffer.allocUnsafe(length);
    }
    this.stagedBytes += this.staged.write(line, this.stagedBytes, "utf8");
  }

  private flush(): void {
    if (this.stagedBytes === 0) return;
    for (let at = 0; at < this.stagedBytes; ) at += writeSync(this.fd, this.staged, at, this.stagedBytes - at);
    this.stagedBytes = 0;
  }

  /** Make the entries visible at these paths as those of the index `sha256`, with what was learnt about it. */
  commitAs(entriesFile: string, lookupFile: string, sha256: string, summary: IndexSummary): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
    const lookup: LookupSummary = { format: FORMAT, sha256, entriesBytes: this.offset, summary: { ...summary, total: this.rows.count } };
    try {
      const fd = openSync(this.tmpLookup, "wx", 0o600);
      try {
        this.rows.write(fd, lookup);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(this.tmpEntries, entriesFile);
      renameSync(this.tmpLookup, lookupFile);
    } catch (err) {
      this.abort();
      throw err;
    }
    forgetLookup(lookupFile);
  }

  abort(): void {
    if (!this.closed) closeSync(this.fd);
    this.closed = true;
    rmSync(this.tmpEntries, { force: true });
    rmSync(this.tmpLookup, { force: true });
  }
}

function parseLines(text: string, into: CatalogEntry[]): void {
  for (let start = 0; start < text.length; ) {
    const nl = text.indexOf("\n", start);
    const end = nl === -1 ? text.length : nl;
    if (end > start) into.push(JSON.parse(text.slice(start, end)) as CatalogEntry);
    start = end + 1;
  }
}

/**
 * The entries of the index with this digest, or undefined on a miss (absent, another digest or format,
 * corrupt). With a query, only the entries it selects are parsed.
 */
export async function readEntriesFile(
  entriesFile: string,
  lookupFile: string,
  sha256: string,
  query: CompactQuery = {},
): Promise<ParsedIndex | undefined> {
  const lookup = readLookup(lookupFile, FORMAT, sha256);
  if (lookup === undefined) return undefined;
  let handle: FileHandle;
  try {
    handle = await open(entriesFile, "r");
  } catch {
    return undefined;
  }
  try {
    if ((await handle.stat()).size !== lookup.entriesBytes) return undefined;
    let entries: CatalogEntry[] = [];
    const ranges = isSelective(query) ? selectFromLookup(lookup, query) : undefined;
    if (ranges !== undefined) {
      for (const [offset, length] of ranges) {
        const buf = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buf, 0, length, offset);
        if (bytesRead !== length) return undefined;
        entries.push(JSON.parse(buf.toString("utf8")) as CatalogEntry);
      }
    } else {
      parseLines((await handle.readFile()).toString("utf8"), entries);
      // A needle the lookup cannot answer (a tab or line break in it): the same selection on the parsed entries.
      if (isSelective(query)) entries = entries.filter((e) => selects(query, e));
    }
    return { sha256, entries, ...lookup.summary };
  } catch {
    return undefined; // a corrupt cache is just a miss
  } finally {
    await handle.close();
  }
}
