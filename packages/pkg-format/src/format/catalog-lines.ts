/**
 * A catalog index read line by line, as its text arrives: the top-level
 * fields go to `yaml-lines.ts` as one small block; each item of `entries` is
 * cut out as its own block of lines (with its first line number) and handed
 * on as soon as the next one starts, so no document tree of the whole index is
 * ever built and memory stays flat however many entries there are.
 *
 * Anything this reader cannot split with certainty (a directive, several
 * documents, `entries` written in flow style, odd indentation, a second
 * `entries`) makes the whole document UNSUPPORTED: the caller then parses the
 * text with the `yaml` library, as before, and gets its exact answers and
 * errors. A single entry outside the simple subset only sends that entry's
 * lines to the `yaml` library (`catalog-read.ts`).
 */
import { isUnsupported, lineOf, parseSimpleYaml, UNSUPPORTED } from "./yaml-lines.js";

/** One item of `entries`, as lines of the index. */
export interface EntryBlock {
  /** Its position in `entries` (counting every item, also those left out later). */
  index: number;
  /** 1-based line number of its first line. */
  line: number;
  /** The lines, as in the index (the first starts with its `-`). */
  lines: string[];
  /** The parsed value, or UNSUPPORTED when the block is outside the simple subset. */
  value: unknown;
}

type State = "top" | "entries-start" | "entries" | "failed";

const isItem = (text: string): boolean => text === "-" || text.startsWith("- ");
const TOP_KEY = /^([A-Za-z0-9_][A-Za-z0-9_./-]*):(?: +|$)/;

export class CatalogLineSplitter {
  private state: State = "top";
  private carry = "";
  private lineNo = 0;
  private sawContent = false;
  private readonly header: string[] = [];
  private entriesSeen = false;
  private emptyEntries = false;
  private dashIndent = 0;
  private block: { index: number; line: number; lines: string[] } | undefined;
  private nextIndex = 0;
  /** The value of `apiVersion` as soon as its line has been read. */
  apiVersion: unknown;

  /** `onBlock` gets each entry as soon as it is complete. */
  constructor(private readonly onBlock: (block: EntryBlock) => void) {}

  get failed(): boolean {
    return this.state === "failed";
  }

  push(chunk: string): void {
    if (this.state === "failed") return;
    const text = this.carry + chunk;
    let start = 0;
    for (let nl = text.indexOf("\n", start); nl !== -1; nl = text.indexOf("\n", start)) {
      this.line(text.slice(start, nl));
      if (this.failed) return;
      start = nl + 1;
    }
    this.carry = text.slice(start);
  }

  /** The top-level fields (`entries` as `[]`: the entries went to `onBlock`), or UNSUPPORTED. */
  end(): Record<string, unknown> | typeof UNSUPPORTED {
    if (this.carry !== "") {
      this.line(this.carry);
      this.carry = "";
    }
    this.flush();
    if (this.state === "failed") return UNSUPPORTED;
    const header = parseSimpleYaml(this.header);
    if (header === UNSUPPORTED || header === null || typeof header !== "object" || Array.isArray(header)) return UNSUPPORTED;
    const fields = header as Record<string, unknown>;
    if (this.entriesSeen) {
      if (Object.hasOwn(fields, "entries")) return UNSUPPORTED;
      // `entries:` with no items is null, as YAML reads it; with items (or `[]`) a list.
      fields.entries = this.emptyEntries || this.nextIndex > 0 ? [] : null;
    }
    return fields;
  }

  private fail(): void {
    this.state = "failed";
    this.block = undefined;
  }

  private line(rawLine: string): void {
    this.lineNo++;
    const raw = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (!this.sawContent && (raw === "---" || raw.startsWith("--- #"))) {
      this.sawContent = true;
      return;
    }
    let parsed: ReturnType<typeof lineOf>;
    try {
      parsed = lineOf(raw);
    } catch (err) {
      if (isUnsupported(err)) {
        this.fail();
        return;
      }
      throw err;
    }
    if (parsed === undefined) {
      // Blank or comment: kept with the entry it sits in (its lines keep their numbers).
      if (this.state === "entries") this.block?.lines.push(raw);
      return;
    }
    this.sawContent = true;
    if (this.state === "entries-start") {
      if (isItem(parsed.text)) {
        this.state = "entries";
        this.dashIndent = parsed.indent;
      } else if (parsed.indent === 0) this.state = "top";
      else {
        this.fail(); // `entries:` holding a mapping
        return;
      }
    }
    if (this.state === "entries") {
      if (parsed.indent === this.dashIndent && isItem(parsed.text)) {
        this.flush();
        this.block = { index: this.nextIndex++, line: this.lineNo, lines: [raw] };
        return;
      }
      if (parsed.indent > this.dashIndent) {
        this.block?.lines.push(raw);
        return;
      }
      if (parsed.indent !== 0) {
        this.fail();
        return;
      }
      this.flush();
      this.state = "top";
    }
    this.topLine(raw, parsed.indent, parsed.text);
  }

  private topLine(raw: string, indent: number, text: string): void {
    if (indent > 0) {
      if (this.header.length === 0) {
        this.fail(); // the document does not start with a mapping key
        return;
      }
      this.header.push(raw);
      return;
    }
    const key = TOP_KEY.exec(text);
    if (key === null) {
      this.fail();
      return;
    }
    if (key[1] === "apiVersion") {
      const v = parseSimpleYaml([raw]);
      this.apiVersion = v === UNSUPPORTED ? undefined : (v as { apiVersion?: unknown }).apiVersion;
    }
    if (key[1] !== "entries") {
      this.header.push(raw);
      return;
    }
    if (this.entriesSeen) {
      this.fail(); // a second `entries`: the `yaml` library reports it
      return;
    }
    this.entriesSeen = true;
    const value = text.slice(key[0].length).trim();
    if (value === "" || value.startsWith("#")) this.state = "entries-start";
    else if (/^\[\s*\](?:\s+#.*)?$/.test(value)) this.emptyEntries = true;
    else this.fail(); // flow-style entries
  }

  private flush(): void {
    const block = this.block;
    if (block === undefined) return;
    this.block = undefined;
    const value = parseSimpleYaml(block.lines);
    this.onBlock({ ...block, value: value === UNSUPPORTED || !Array.isArray(value) || value.length !== 1 ? UNSUPPORTED : value[0] });
  }
}

/** The bytes the envelope scan looks at. */
const CH = {
  A: 0x41,
  Z: 0x5a,
  a: 0x61,
  z: 0x7a,
  d0: 0x30,
  d9: 0x39,
  underscore: 0x5f,
  space: 0x20,
  dash: 0x2d,
  hash: 0x23,
  cr: 0x0d,
  nl: 0x0a,
};

const startsKey = (c: number): boolean =>
  (c >= CH.a && c <= CH.z) || (c >= CH.A && c <= CH.Z) || (c >= CH.d0 && c <= CH.d9) || c === CH.underscore;
/** A line that holds nothing (blank, or a comment at column 0); `undefined` past the end. */
const isNothing = (c: number | undefined): boolean => c === undefined || c === CH.hash || c === CH.nl || c === CH.cr;
const startsDocumentMarker = (bytes: Uint8Array, at: number): boolean =>
  bytes[at] === CH.dash && bytes[at + 1] === CH.dash && bytes[at + 2] === CH.dash;

/**
 * The top-level fields of an index without reading its entries (`entries` as `[]` or null, like `end()`), or
 * UNSUPPORTED. For a reader that takes the entries from a companion (`catalog-ndjson.ts`) and needs only
 * the envelope (serial, expires, companions): the lines of `entries` are skipped by their first byte, so a
 * 30 MB index costs one native scan for line breaks and only the envelope's lines are decoded. In the block
 * style every generator writes, a line inside `entries` starts with a space, `-` (items at column 0), `#` or
 * is blank; a line starting with a key character is the next top-level field. Anything else (a document
 * marker, a directive, a quoted or complex key, `entries` in flow style or as a mapping, a second `entries`)
 * is UNSUPPORTED, never a guess: the caller then reads the whole index.
 */
export function indexEnvelopeFields(bytes: Uint8Array): Record<string, unknown> | typeof UNSUPPORTED {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: string[] = [];
  /** Where a line of `entries` is: not in entries, before its first item, inside its items. */
  let inEntries: "no" | "start" | "items" = "no";
  let entriesSeen = false;
  let items = false;
  let emptyFlow = false;
  let dashAtZero = false;
  const lineText = (start: number, nl: number): string => buf.toString("utf8", start, buf[nl - 1] === CH.cr ? nl - 1 : nl);
  for (let start = 0; start < buf.length; ) {
    let nl = buf.indexOf(CH.nl, start);
    if (nl === -1) nl = buf.length;
    const c = buf[start]!;
    if (startsKey(c)) {
      const raw = lineText(start, nl);
      const key = TOP_KEY.exec(raw);
      if (key === null) return UNSUPPORTED;
      if (key[1] === "entries") {
        if (entriesSeen) return UNSUPPORTED;
        entriesSeen = true;
        const value = raw.slice(key[0].length).trim();
        if (value === "" || value.startsWith("#")) inEntries = "start";
        else if (/^\[\s*\](?:\s+#.*)?$/.test(value)) {
          emptyFlow = true;
          inEntries = "no";
        } else return UNSUPPORTED;
      } else {
        inEntries = "no";
        header.push(raw);
      }
    } else if (startsDocumentMarker(buf, start)) return UNSUPPORTED;
    else if (inEntries === "no") {
      // A continuation of the current top-level field (or a comment or blank line before the first one).
      if (header.length > 0) header.push(lineText(start, nl));
      else if (!isNothing(c)) return UNSUPPORTED;
    } else if (c === CH.dash) {
      if (inEntries === "start") dashAtZero = true;
      else if (!dashAtZero) return UNSUPPORTED; // items indented, then one at column 0
      inEntries = "items";
      items = true;
    } else if (c === CH.space) {
      if (inEntries === "start") {
        // The first content line of `entries` must be an item (a mapping there is not a list).
        let i = start;
        while (buf[i] === CH.space) i++;
        if (buf[i] === CH.dash) {
          inEntries = "items";
          items = true;
        } else if (!isNothing(buf[i])) return UNSUPPORTED;
      }
    } else if (!isNothing(c)) return UNSUPPORTED;
    start = nl + 1;
  }
  const parsed = parseSimpleYaml(header);
  if (parsed === UNSUPPORTED || parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return UNSUPPORTED;
  const fields = parsed as Record<string, unknown>;
  if (entriesSeen) {
    if (Object.hasOwn(fields, "entries")) return UNSUPPORTED;
    fields.entries = emptyFlow || items ? [] : null;
  }
  return fields;
}
