/**
 * Reading a catalog index without a document tree and, for well-formed
 * entries, without zod: `catalog-lines.ts` cuts the index into entry blocks,
 * `catalog-fast-check.ts` accepts the entries it can vouch for, and only the
 * others are handed to the slow checks (the `yaml` library on that entry's
 * lines, then zod), which word and locate every problem exactly as a parse of
 * the whole document would. The same pipeline reads the NDJSON companion of an
 * index (`catalog-ndjson.ts`).
 *
 * The result is the one `parseCatalog` returns: the same entries, the same
 * warnings at the same `file:line:column` and field path. When the document
 * itself is outside what the line reader can split, the answer is "use the full
 * parser" (undefined), never a guess.
 */
import type { Problem } from "../errors.js";
import { fastAlphaEntry, fastV1Entry } from "./catalog-fast-check.js";
import type { EntryBlock } from "./catalog-lines.js";
import { CatalogLineSplitter, indexEnvelopeFields } from "./catalog-lines.js";
import { isRfc3339, SHA256_DIGEST } from "./patterns.js";
import { sortProblems } from "./problem-list.js";
import type { CatalogEntry } from "./schema-catalog.js";
import { isMapping, UNSUPPORTED } from "./yaml-lines.js";

export const V1_API_VERSION = "catalog.productive-k3s.io/v1";
export const V1ALPHA1_API_VERSION = "catalogs.productive-k3s.io/v1alpha1";

export interface Location {
  line: number;
  column: number;
}

/** One entry as the slow checks see it: its value, and how to find its fields in the source. */
export interface EntryCheck {
  entry?: CatalogEntry | undefined;
  /** Errors (the entry is invalid) and warnings (unknown fields, a kind left out), located. */
  problems: Problem[];
  /** The entry cannot be judged on its own (e.g. an alias to an anchor elsewhere): parse the whole document. */
  wholeDocument?: boolean | undefined;
}

/** The checks that need zod (and, for YAML, the `yaml` library): implemented by `catalog-parse.ts`. */
export interface SlowCatalogChecks {
  /** An entry block of a YAML index. */
  yamlEntry(block: EntryBlock, alpha: boolean, file: string): EntryCheck;
  /** Where `entries[i].version` is in a YAML entry block (for the duplicate warning). */
  yamlVersionLocation(block: EntryBlock, file: string): Location | undefined;
  /** An entry of an NDJSON companion, on `line`. */
  jsonEntry(value: unknown, index: number, line: number, file: string): EntryCheck;
}

/** Where an entry came from, for the slow checks. */
export type EntrySource = { kind: "yaml"; block: EntryBlock } | { kind: "json"; value: unknown; index: number; line: number };

export interface PipelineOptions {
  /** Report invalid entries as warnings and leave them out instead of failing the whole catalog. */
  skipInvalidEntries?: boolean | undefined;
  /** Gets each accepted entry in order (first of its type/name@version). */
  onEntry(entry: CatalogEntry): void;
}

/**
 * The per-entry half of a catalog parse, shared by every reader: fast check, else the slow checks; the
 * first entry of a type/name@version wins; problems collected. It needs the slow checks only for the
 * entries the fast check does not accept (`needsSlow`).
 */
export class EntryPipeline {
  private readonly seen = new Map<string, number>();
  readonly warnings: Problem[] = [];
  readonly entryErrors: Problem[] = [];
  count = 0;
  private wholeDocument = false;

  constructor(
    private readonly file: string,
    private readonly options: PipelineOptions,
    readonly alpha: boolean,
  ) {}

  private fast(source: EntrySource): CatalogEntry | undefined {
    const value = source.kind === "yaml" ? source.block.value : source.value;
    if (value === UNSUPPORTED) return undefined;
    return this.alpha ? fastAlphaEntry(value) : fastV1Entry(value);
  }

  /** Undefined when `source` can be taken without the slow checks; else why not (for the caller to load them). */
  handle(source: EntrySource, slow: SlowCatalogChecks | undefined): "needs-slow" | undefined {
    const index = source.kind === "yaml" ? source.block.index : source.index;
    let entry = this.fast(source);
    if (entry === undefined) {
      if (slow === undefined) return "needs-slow";
      const check =
        source.kind === "yaml"
          ? slow.yamlEntry(source.block, this.alpha, this.file)
          : slow.jsonEntry(source.value, source.index, source.line, this.file);
      if (check.wholeDocument === true) {
        this.wholeDocument = true;
        return undefined;
      }
      for (const p of check.problems) (p.severity === "error" ? this.entryErrors : this.warnings).push(p);
      entry = check.entry;
    }
    if (entry === undefined) return undefined;
    const key = `${entry.type}/${entry.name}@${entry.version}`;
    const first = this.seen.get(key);
    if (first !== undefined) {
      if (slow === undefined) return "needs-slow";
      const loc = source.kind === "yaml" ? slow.yamlVersionLocation(source.block, this.file) : { line: source.line, column: 1 };
      this.warnings.push({
        file: this.file,
        ...loc,
        path: `entries[${index}].version`,
        message: `${entry.type} ${entry.name}@${entry.version} is listed again (first at entries[${first}]); the first entry wins`,
        severity: "warning",
      });
      return undefined;
    }
    this.seen.set(key, index);
    this.count++;
    this.options.onEntry(entry);
    return undefined;
  }

  /** The warnings (and, with skipInvalidEntries, the entry errors as warnings), sorted; undefined when the entries fail. */
  finish(): Problem[] | undefined {
    if (this.wholeDocument) return undefined;
    const warnings = [...this.warnings];
    if (this.entryErrors.length > 0) {
      if (this.options.skipInvalidEntries !== true) return undefined;
      warnings.push(...this.entryErrors.map((p) => ({ ...p, severity: "warning" as const, message: `${p.message} (entry skipped)` })));
    }
    sortProblems(warnings);
    return warnings;
  }
}

/** A companion file listed by a v1 index (`schema-catalog.ts`: CatalogCompanionSchema). */
export interface IndexCompanion {
  url: string;
  digest: string;
  size?: number | undefined;
  format: string;
}

/** The top-level fields of an index, checked without zod. */
export interface IndexEnvelope {
  apiVersion: string;
  alpha: boolean;
  generated?: string | undefined;
  /** Signed v1 indexes: the publication's serial and expiry (checked by the reader's trust policy). */
  serial?: number | undefined;
  expires?: string | undefined;
  /** v1: other files covered by the index's digest (and so its signature), e.g. the NDJSON companion. */
  companions?: IndexCompanion[] | undefined;
}

const V1_ENVELOPE_KEYS: ReadonlySet<string> = new Set(["apiVersion", "kind", "generated", "serial", "expires", "companions", "entries"]);
const COMPANION_KEYS: ReadonlySet<string> = new Set(["url", "digest", "size", "format"]);
const ALPHA_ENVELOPE_KEYS: ReadonlySet<string> = new Set(["apiVersion", "kind", "metadata", "entries"]);
const ALPHA_METADATA_KEYS: ReadonlySet<string> = new Set(["name", "generatedAt"]);

const keysWithin = (o: Record<string, unknown>, keys: ReadonlySet<string>): boolean => Object.keys(o).every((k) => keys.has(k));
const optionalString = (v: unknown): boolean => v === undefined || typeof v === "string";
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const nonEmptyString = (v: unknown): v is string => typeof v === "string" && v !== "";

/** The companions when each is plainly valid (as the schema would accept it), else undefined. */
function fastCompanions(value: unknown): IndexCompanion[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: IndexCompanion[] = [];
  for (const c of value) {
    if (!isMapping(c) || !keysWithin(c, COMPANION_KEYS)) return undefined;
    if (!nonEmptyString(c.url) || !nonEmptyString(c.format) || typeof c.digest !== "string" || !SHA256_DIGEST.test(c.digest))
      return undefined;
    if (c.size !== undefined && !isCount(c.size)) return undefined;
    out.push({ url: c.url, digest: c.digest, format: c.format, ...(c.size === undefined ? {} : { size: c.size }) });
  }
  return out;
}

/** The signing fields and companions of a v1 envelope when plainly valid; `false` when the schema must decide. */
function fastV1Extras(fields: Record<string, unknown>): Pick<IndexEnvelope, "serial" | "expires" | "companions"> | false {
  const { serial, expires } = fields;
  if (serial !== undefined && !isCount(serial)) return false;
  if (expires !== undefined && (typeof expires !== "string" || !isRfc3339(expires))) return false;
  const companions = fields.companions === undefined ? undefined : fastCompanions(fields.companions);
  if (fields.companions !== undefined && companions === undefined) return false;
  return { serial, expires, companions };
}

/**
 * The envelope when it is plainly valid (known fields only, right kind, a list of entries); undefined
 * otherwise, and the full parser then reports what is wrong with it.
 */
export function fastEnvelope(fields: Record<string, unknown>): IndexEnvelope | undefined {
  if (!Array.isArray(fields.entries)) return undefined;
  if (fields.apiVersion === V1_API_VERSION) {
    if (!keysWithin(fields, V1_ENVELOPE_KEYS) || fields.kind !== "Catalog" || !optionalString(fields.generated)) return undefined;
    const extras = fastV1Extras(fields);
    if (extras === false) return undefined;
    return { apiVersion: V1_API_VERSION, alpha: false, generated: fields.generated as string | undefined, ...extras };
  }
  if (fields.apiVersion === V1ALPHA1_API_VERSION) {
    if (!keysWithin(fields, ALPHA_ENVELOPE_KEYS) || fields.kind !== "ProductiveK3SCatalog") return undefined;
    const metadata = fields.metadata;
    if (metadata !== undefined) {
      if (!isMapping(metadata)) return undefined;
      if (!keysWithin(metadata, ALPHA_METADATA_KEYS) || !optionalString(metadata.name) || !optionalString(metadata.generatedAt))
        return undefined;
    }
    return {
      apiVersion: V1ALPHA1_API_VERSION,
      alpha: true,
      generated: (metadata as { generatedAt?: string } | undefined)?.generatedAt,
    };
  }
  return undefined;
}

/**
 * The envelope of an index's bytes without reading its entries (`indexEnvelopeFields`), or undefined when
 * it is not plainly valid or outside what the line reader splits: the caller then reads the whole index.
 */
export function readIndexEnvelope(bytes: Uint8Array): IndexEnvelope | undefined {
  const fields = indexEnvelopeFields(bytes);
  return fields === UNSUPPORTED ? undefined : fastEnvelope(fields);
}

/** What a line read of an index gives: the envelope and the sorted warnings (the entries went to `onEntry`). */
export interface CatalogReadResult extends IndexEnvelope {
  warnings: Problem[];
  entries: number;
}

/**
 * An index read as its text arrives (`push`), entries handed to `onEntry` as they are accepted. The slow
 * checks are loaded (`loadSlow`) only when an entry needs them. `end()` gives undefined when the document is
 * outside what the line reader handles, or (without skipInvalidEntries) when an entry is invalid: the caller
 * then parses the whole text with `parseCatalog`, which throws the located problems. Entries already handed
 * to `onEntry` are then to be discarded.
 */
export class CatalogStreamReader {
  private readonly splitter: CatalogLineSplitter;
  private readonly pending: EntryBlock[] = [];
  private pipeline: EntryPipeline | undefined;
  private slow: SlowCatalogChecks | undefined;

  constructor(
    private readonly file: string,
    private readonly options: PipelineOptions & { loadSlow: () => Promise<SlowCatalogChecks> | SlowCatalogChecks },
  ) {
    this.splitter = new CatalogLineSplitter((block) => this.pending.push(block));
  }

  /** The pipeline once the kind of index is known (from its `apiVersion`, normally its first line). */
  private pipelineFor(apiVersion: unknown): EntryPipeline | undefined {
    if (this.pipeline === undefined && (apiVersion === V1_API_VERSION || apiVersion === V1ALPHA1_API_VERSION)) {
      this.pipeline = new EntryPipeline(this.file, this.options, apiVersion === V1ALPHA1_API_VERSION);
    }
    return this.pipeline;
  }

  private async drain(): Promise<void> {
    const pipeline = this.pipelineFor(this.splitter.apiVersion);
    if (pipeline === undefined) return; // entries before apiVersion (or an unknown one): kept until the end
    while (this.pending.length > 0) {
      const source: EntrySource = { kind: "yaml", block: this.pending[0]! };
      if (pipeline.handle(source, this.slow) === "needs-slow") {
        this.slow = await this.options.loadSlow();
        pipeline.handle(source, this.slow);
      }
      this.pending.shift();
    }
  }

  async push(chunk: string): Promise<void> {
    this.splitter.push(chunk);
    if (this.splitter.failed) this.pending.length = 0;
    else await this.drain();
  }

  async end(): Promise<CatalogReadResult | undefined> {
    const fields = this.splitter.end();
    if (fields === UNSUPPORTED) return undefined;
    const envelope = fastEnvelope(fields);
    if (envelope === undefined) return undefined;
    this.pipelineFor(envelope.apiVersion);
    await this.drain();
    const warnings = this.pipeline?.finish();
    if (warnings === undefined) return undefined;
    return { ...envelope, warnings, entries: this.pipeline?.count ?? 0 };
  }
}

/**
 * The whole text at once, with the slow checks at hand (`parseCatalog`): entries collected; undefined when
 * the full parser must decide (see CatalogStreamReader).
 */
export function readCatalogText(
  text: string,
  file: string,
  options: { skipInvalidEntries?: boolean | undefined },
  slow: SlowCatalogChecks,
): (CatalogReadResult & { list: CatalogEntry[] }) | undefined {
  const list: CatalogEntry[] = [];
  const pipelineOptions: PipelineOptions = { ...options, onEntry: (e) => list.push(e) };
  let pipeline: EntryPipeline | undefined;
  const early: EntryBlock[] = [];
  const splitter = new CatalogLineSplitter((block) => {
    const alpha = splitter.apiVersion === V1ALPHA1_API_VERSION;
    if (pipeline === undefined && (alpha || splitter.apiVersion === V1_API_VERSION))
      pipeline = new EntryPipeline(file, pipelineOptions, alpha);
    if (pipeline === undefined) early.push(block);
    else pipeline.handle({ kind: "yaml", block }, slow);
  });
  splitter.push(text);
  const fields = splitter.end();
  if (fields === UNSUPPORTED) return undefined;
  const envelope = fastEnvelope(fields);
  if (envelope === undefined || (pipeline !== undefined && pipeline.alpha !== envelope.alpha)) return undefined;
  pipeline ??= new EntryPipeline(file, pipelineOptions, envelope.alpha);
  for (const block of early) pipeline.handle({ kind: "yaml", block }, slow);
  const warnings = pipeline.finish();
  if (warnings === undefined) return undefined;
  return { ...envelope, warnings, entries: pipeline.count, list };
}
