/**
 * The parsed-entries file of a cached index (`entries-<sha256>.ndjson`): a
 * header line (format, digest of the index, parse warnings), then one
 * normalised entry per line, read instead of re-parsing the YAML. Its
 * lookup file (`lookup-file.ts`) points into it so a query parses only the
 * lines it selects.
 */
import { type FileHandle, open } from "node:fs/promises";
import type { Problem } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { type CompactQuery, isSelective, selects } from "./catalog-query.js";
import { type LookupRow, lookupText, selectFromLookup } from "./lookup-file.js";

/**
 * Bumped whenever the entries or lookup layout changes, or the parser reads an index differently: older files are
 * then misses (4: v1alpha1 `kind: stack` entries are read, where 3 left them out).
 */
const FORMAT = 4;

/** An index as parsed: its digest, normalised entries and the parser's warnings. */
export interface ParsedIndex {
  sha256: string;
  entries: CatalogEntry[];
  warnings: Problem[];
  generated?: string | undefined;
  /** The signing fields of the index, checked for catalogs with trusted keys. */
  serial?: number | undefined;
  expires?: string | undefined;
}

interface Header {
  format: number;
  sha256: string;
  warnings: Problem[];
  generated?: string | undefined;
  serial?: number | undefined;
  expires?: string | undefined;
}

function parseLines(text: string, from: number, into: CatalogEntry[]): void {
  for (let start = from; start < text.length; ) {
    const nl = text.indexOf("\n", start);
    const end = nl === -1 ? text.length : nl;
    if (end > start) into.push(JSON.parse(text.slice(start, end)) as CatalogEntry);
    start = end + 1;
  }
}

/** The entries file and its lookup file for `parsed`. */
export function entriesFileTexts(parsed: ParsedIndex): { entries: string; lookup: string } {
  const header: Header = {
    format: FORMAT,
    sha256: parsed.sha256,
    warnings: parsed.warnings,
    generated: parsed.generated,
    serial: parsed.serial,
    expires: parsed.expires,
  };
  const headerLine = `${JSON.stringify(header)}\n`;
  const lines: string[] = [headerLine];
  const rows: LookupRow[] = [];
  let offset = Buffer.byteLength(headerLine);
  for (const entry of parsed.entries) {
    const line = JSON.stringify(entry);
    const length = Buffer.byteLength(line);
    lines.push(`${line}\n`);
    rows.push({ entry, offset, length });
    offset += length + 1;
  }
  return { entries: lines.join(""), lookup: lookupText(FORMAT, parsed.sha256, offset, rows) };
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
  let handle: FileHandle;
  try {
    handle = await open(entriesFile, "r");
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
    const header = JSON.parse(head.slice(0, headerEnd)) as Header;
    if (header.format !== FORMAT || header.sha256 !== sha256) return undefined;
    const selective = isSelective(query);
    const ranges = selective ? selectFromLookup(lookupFile, FORMAT, sha256, size, query) : undefined;
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
    return { sha256, entries, warnings: header.warnings, generated: header.generated, serial: header.serial, expires: header.expires };
  } catch {
    return undefined; // a corrupt cache is just a miss
  } finally {
    await handle.close();
  }
}
