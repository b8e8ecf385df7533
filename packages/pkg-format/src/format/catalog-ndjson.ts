/**
 * The NDJSON companion of a v1 catalog index (`pk3s catalog index` writes it
 * beside `index.yaml`, which pins its digest): the same entries, one JSON
 * object per line after a header line, so a reader parses each entry with
 * `JSON.parse` as it arrives instead of parsing YAML. A shard of a sharded
 * index (`catalog-shards.ts`) is the same format holding some names only.
 *
 *   {"apiVersion":"catalog.productive-k3s.io/v1","kind":"CatalogEntries","generated":"…","entries":2}
 *   {"name":"cert-manager","version":"1.2.0","type":"addon","url":"packages/cert-manager-1.2.0.tgz",…}
 *   {"name":"longhorn",…}
 *
 * Entries go through the same checks as the index's (`catalog-read.ts`: fast
 * checks, zod for the others), problems located at `file:line` with the field
 * path `entries[i].field`; a header or a line that is not JSON is an error
 * naming its line.
 */
import { type Problem, ValidationError } from "../errors.js";
import { EntryPipeline, type PipelineOptions, type SlowCatalogChecks, V1_API_VERSION } from "./catalog-read.js";
import { problemCountMessage, sortProblems } from "./problem-list.js";
import type { CatalogEntry } from "./schema-catalog.js";

export const ENTRIES_KIND = "CatalogEntries";
/** `format` of the companion in an index's `companions`. */
export const NDJSON_COMPANION_FORMAT = "entries+ndjson";

export interface NdjsonHeader {
  apiVersion: typeof V1_API_VERSION;
  kind: typeof ENTRIES_KIND;
  generated?: string | undefined;
  /** How many entry lines follow. */
  entries: number;
}

/** The header line (without its newline). */
export function ndjsonHeaderLine(header: Omit<NdjsonHeader, "apiVersion" | "kind">): string {
  return JSON.stringify({ apiVersion: V1_API_VERSION, kind: ENTRIES_KIND, generated: header.generated, entries: header.entries });
}

/** One entry line (without its newline): JSON never holds a raw line break. */
export function ndjsonEntryLine(entry: CatalogEntry): string {
  return JSON.stringify(entry);
}

function headerProblem(file: string, message: string, line = 1): ValidationError {
  const problems: Problem[] = [{ file, line, column: 1, message, severity: "error" }];
  return new ValidationError(problemCountMessage(file, problems), problems, {
    where: file,
    hint: "the companion does not match what pk3s catalog index writes; regenerate it, or remove it and keep index.yaml",
  });
}

function parseHeader(text: string, file: string): NdjsonHeader {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw headerProblem(file, "expected a JSON header line");
  }
  const h = value as Partial<NdjsonHeader> | null;
  if (h === null || typeof h !== "object" || h.apiVersion !== V1_API_VERSION || h.kind !== ENTRIES_KIND) {
    throw headerProblem(
      file,
      `expected a header with apiVersion ${JSON.stringify(V1_API_VERSION)} and kind ${JSON.stringify(ENTRIES_KIND)}`,
    );
  }
  if (!Number.isSafeInteger(h.entries) || (h.entries as number) < 0) throw headerProblem(file, "expected the header's entries count");
  if (h.generated !== undefined && typeof h.generated !== "string") throw headerProblem(file, "expected generated to be a string");
  return h as NdjsonHeader;
}

export interface NdjsonReadResult {
  header: NdjsonHeader;
  warnings: Problem[];
  /** Entries accepted (handed to onEntry). */
  entries: number;
}

/**
 * A companion read as it arrives (`push` bytes or text), entries handed to `onEntry` in order. The slow
 * checks are loaded only for an entry the fast checks do not accept. Throws ValidationError for a broken
 * header, a line that is not JSON, a count that does not match the header, and (without skipInvalidEntries)
 * an invalid entry.
 */
export class NdjsonEntriesReader {
  private carry = "";
  private lineNo = 0;
  private header: NdjsonHeader | undefined;
  private readonly pipeline: EntryPipeline;
  private slow: SlowCatalogChecks | undefined;
  /** Entry lines seen (the next entry's index). */
  private seen = 0;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(
    private readonly file: string,
    private readonly options: PipelineOptions & { loadSlow: () => Promise<SlowCatalogChecks> | SlowCatalogChecks },
  ) {
    this.pipeline = new EntryPipeline(file, options, false);
  }

  private async line(text: string): Promise<void> {
    this.lineNo++;
    if (this.header === undefined) {
      this.header = parseHeader(text, this.file);
      return;
    }
    if (text === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw headerProblem(this.file, "expected one JSON object per line", this.lineNo);
    }
    const source = { kind: "json" as const, value, index: this.seen++, line: this.lineNo };
    if (this.pipeline.handle(source, this.slow) === "needs-slow") {
      this.slow = await this.options.loadSlow();
      this.pipeline.handle(source, this.slow);
    }
  }

  async push(chunk: string | Uint8Array): Promise<void> {
    const text = this.carry + (typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true }));
    let start = 0;
    for (let nl = text.indexOf("\n", start); nl !== -1; nl = text.indexOf("\n", start)) {
      await this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.carry = text.slice(start);
  }

  async end(): Promise<NdjsonReadResult> {
    const rest = this.carry + this.decoder.decode();
    this.carry = "";
    if (rest !== "") await this.line(rest);
    if (this.header === undefined) throw headerProblem(this.file, "expected a JSON header line (the file is empty)");
    if (this.seen !== this.header.entries) {
      throw headerProblem(this.file, `the header announces ${this.header.entries} entries, the file holds ${this.seen} (cut short?)`);
    }
    const warnings = this.pipeline.finish();
    if (warnings === undefined) {
      const problems = [...this.pipeline.entryErrors, ...this.pipeline.warnings];
      sortProblems(problems);
      throw new ValidationError(problemCountMessage(this.file, problems), problems, { where: this.file });
    }
    return { header: this.header, warnings, entries: this.pipeline.count };
  }
}
