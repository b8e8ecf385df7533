/**
 * Reading a catalog index (v1 or the published v1alpha1) into normalised entries.
 *
 * An index is first read line by line (`catalog-read.ts`: no document tree,
 * zod only for the entries that need it); this module's whole-document parse
 * runs only when that reader cannot split the document, and gives the same
 * answers. It also provides the reader's slow checks: one entry's lines parsed
 * by the `yaml` library and validated by zod, every problem located in the index.
 */
import { type Problem, ValidationError } from "../errors.js";
import { alphaEntryToV1, PACKAGE_TYPES } from "./catalog-fast-check.js";
import type { EntryBlock } from "./catalog-lines.js";
import { type EntryCheck, readCatalogText, type SlowCatalogChecks } from "./catalog-read.js";
import { problemCountMessage, sortProblems } from "./manifest-parse.js";
import {
  CATALOG_API_VERSION,
  CATALOG_V1ALPHA1_API_VERSION,
  type CatalogCompanion,
  type CatalogEntry,
  CatalogEntrySchema,
  CatalogV1Alpha1EntrySchema,
  CatalogV1Alpha1Schema,
  CatalogV1Schema,
} from "./schema-catalog.js";
import { findUnknownFields, issuesToProblems, unknownFieldProblem } from "./schema-problems.js";
import { type FieldPath, formatFieldPath, type Location, parseYamlSource, type YamlSource } from "./yaml-source.js";

export interface ParsedCatalog {
  apiVersion: string;
  entries: CatalogEntry[];
  generated?: string | undefined;
  /** v1 signing fields (DESIGN §8): absent from unsigned and v1alpha1 indexes. */
  serial?: number | undefined;
  expires?: string | undefined;
  companions?: CatalogCompanion[] | undefined;
  warnings: Problem[];
}

export interface CatalogParseOptions {
  /** Report invalid entries as warnings and leave them out instead of failing the whole catalog. */
  skipInvalidEntries?: boolean;
}

export function parseCatalog(text: string, file: string, options: CatalogParseOptions = {}): ParsedCatalog {
  const read = readCatalogText(text, file, options, slowCatalogChecks);
  if (read !== undefined) {
    const { apiVersion, list, generated, serial, expires, companions, warnings } = read;
    return { apiVersion, entries: list, generated, serial, expires, companions, warnings };
  }
  return parseCatalogDocument(text, file, options);
}

/** The whole-document parse (the `yaml` library's tree, zod on every entry): the reference the line reader matches. */
export function parseCatalogDocument(text: string, file: string, options: CatalogParseOptions = {}): ParsedCatalog {
  const source = parseYamlSource(text, file);
  const problems: Problem[] = [...source.problems];
  const fail = (): never => {
    sortProblems(problems);
    throw new ValidationError(problemCountMessage(file, problems), problems, {
      where: file,
      hint:
        "correct each field of the index at the line shown (the catalog format: docs/formats.md), or regenerate it with pk3s catalog index; " +
        "for a catalog you do not publish, tell its publisher and meanwhile remove it (pk3s catalog remove <name>)",
    });
  };
  if (problems.some((p) => p.severity === "error")) fail();
  const doc = source.value as Record<string, unknown> | undefined;
  if (doc === null || doc === undefined || typeof doc !== "object" || Array.isArray(doc)) {
    problems.push({ file, line: 1, column: 1, message: "expected a catalog mapping (apiVersion, kind, entries)", severity: "error" });
    return fail();
  }
  const isAlpha = doc.apiVersion === CATALOG_V1ALPHA1_API_VERSION;
  const envelope = isAlpha ? CatalogV1Alpha1Schema : CatalogV1Schema;
  for (const path of findUnknownFields(envelope, doc)) problems.push(unknownFieldProblem(path, source, file, "warning"));
  const env = envelope.safeParse(doc, { reportInput: true });
  if (!env.success) {
    if (doc.apiVersion !== CATALOG_API_VERSION && !isAlpha) {
      const loc = source.locate(["apiVersion"]);
      problems.push({
        file,
        ...loc,
        path: "apiVersion",
        message: `expected ${JSON.stringify(CATALOG_API_VERSION)} or ${JSON.stringify(CATALOG_V1ALPHA1_API_VERSION)}, found ${JSON.stringify(doc.apiVersion)}`,
        severity: "error",
      });
      return fail();
    }
    problems.push(...issuesToProblems(env.error.issues, doc, source, file));
    return fail();
  }
  const rawEntries = env.data.entries;
  const entries: CatalogEntry[] = [];
  const entryProblems: Problem[] = [];
  const seen = new Map<string, number>();
  rawEntries.forEach((raw, i) => {
    const base = ["entries", i];
    const result = isAlpha ? normaliseAlphaEntry(raw, i, source, file) : parseV1Entry(raw, i, source, file);
    entryProblems.push(...result.problems.filter((p) => p.severity === "error"));
    problems.push(...result.problems.filter((p) => p.severity === "warning"));
    if (result.entry !== undefined) {
      const key = `${result.entry.type}/${result.entry.name}@${result.entry.version}`;
      const first = seen.get(key);
      if (first !== undefined) {
        const loc = source.locate([...base, "version"]);
        problems.push({
          file,
          ...loc,
          path: formatFieldPath([...base, "version"]),
          message: `${result.entry.type} ${result.entry.name}@${result.entry.version} is listed again (first at entries[${first}]); the first entry wins`,
          severity: "warning",
        });
        return;
      }
      seen.set(key, i);
      entries.push(result.entry);
    } else if (result.skipped !== undefined) {
      const loc = source.locate([...base, "kind"]);
      problems.push({ file, ...loc, path: formatFieldPath([...base, "kind"]), message: result.skipped, severity: "warning" });
    }
  });
  if (entryProblems.length > 0) {
    if (options.skipInvalidEntries === true) {
      problems.push(...entryProblems.map((p) => ({ ...p, severity: "warning" as const, message: `${p.message} (entry skipped)` })));
    } else {
      problems.push(...entryProblems);
      return fail();
    }
  }
  sortProblems(problems);
  const generated = isAlpha
    ? (env.data as { metadata?: { generatedAt?: string } }).metadata?.generatedAt
    : (env.data as { generated?: string }).generated;
  const signing = isAlpha ? {} : (env.data as { serial?: number; expires?: string; companions?: CatalogCompanion[] });
  return {
    apiVersion: String(doc.apiVersion),
    entries,
    generated,
    serial: signing.serial,
    expires: signing.expires,
    companions: signing.companions,
    warnings: problems,
  };
}

interface EntryResult {
  entry?: CatalogEntry;
  skipped?: string;
  problems: Problem[];
}

function parseV1Entry(raw: unknown, i: number, source: YamlSource, file: string): EntryResult {
  const problems: Problem[] = findUnknownFields(CatalogEntrySchema, raw).map((p) =>
    unknownFieldProblem(["entries", i, ...p], source, file, "warning"),
  );
  const r = CatalogEntrySchema.safeParse(raw, { reportInput: true });
  if (!r.success) {
    const issues = r.error.issues.map((iss) => ({ ...iss, path: ["entries", i, ...iss.path] }));
    return { problems: [...problems, ...issuesToProblems(issues, { entries: { [i]: raw } }, source, file)] };
  }
  return { entry: r.data, problems };
}

function normaliseAlphaEntry(raw: unknown, i: number, source: YamlSource, file: string): EntryResult {
  const kind = (raw as { kind?: unknown } | null)?.kind;
  if (typeof kind === "string" && !PACKAGE_TYPES.has(kind)) {
    const name = (raw as { name?: unknown }).name;
    return {
      skipped: `entry ${JSON.stringify(name)} has kind ${JSON.stringify(kind)}: only addon, profile and stack entries are supported (left out)`,
      problems: [],
    };
  }
  const problems: Problem[] = findUnknownFields(CatalogV1Alpha1EntrySchema, raw).map((p) =>
    unknownFieldProblem(["entries", i, ...p], source, file, "warning"),
  );
  const r = CatalogV1Alpha1EntrySchema.safeParse(raw, { reportInput: true });
  if (!r.success) {
    const issues = r.error.issues.map((iss) => ({ ...iss, path: ["entries", i, ...iss.path] }));
    return { problems: [...problems, ...issuesToProblems(issues, { entries: { [i]: raw } }, source, file)] };
  }
  return { entry: alphaEntryToV1(r.data), problems };
}

/** One entry block of an index as a document of its own (`entries:` + its lines), located in the index. */
function blockSource(block: EntryBlock, file: string): { raw: unknown; source: YamlSource } | undefined {
  const parsed = parseYamlSource(`entries:\n${block.lines.join("\n")}\n`, file);
  if (parsed.problems.length > 0) return undefined; // e.g. an alias to an anchor elsewhere: the whole document decides
  const shift = block.line - 2;
  const moved = (loc: Location | undefined): Location | undefined => loc && { line: loc.line + shift, column: loc.column };
  const local = (path: FieldPath): FieldPath =>
    path[0] === "entries" && path[1] === block.index ? ["entries", 0, ...path.slice(2)] : path;
  const source: YamlSource = {
    value: parsed.value,
    problems: [],
    locate: (path) => moved(parsed.locate(local(path))),
    locateKey: (path) => moved(parsed.locateKey(local(path))),
  };
  return { raw: (parsed.value as { entries?: unknown[] } | null)?.entries?.[0], source };
}

/** A source that places every field of an NDJSON entry on its line. */
function lineSource(value: unknown, line: number): YamlSource {
  const at = (): Location => ({ line, column: 1 });
  return { value, problems: [], locate: at, locateKey: at };
}

function entryCheck(result: EntryResult, index: number, source: YamlSource, file: string): EntryCheck {
  if (result.skipped === undefined) return result;
  const path: FieldPath = ["entries", index, "kind"];
  return {
    problems: [
      ...result.problems,
      { file, ...source.locate(path), path: formatFieldPath(path), message: result.skipped, severity: "warning" },
    ],
  };
}

/** The checks `catalog-read.ts` needs zod (and the `yaml` library) for. */
export const slowCatalogChecks: SlowCatalogChecks = {
  yamlEntry(block, alpha, file) {
    const parsed = blockSource(block, file);
    if (parsed === undefined) return { problems: [], wholeDocument: true };
    const check = alpha ? normaliseAlphaEntry : parseV1Entry;
    return entryCheck(check(parsed.raw, block.index, parsed.source, file), block.index, parsed.source, file);
  },
  yamlVersionLocation(block, file) {
    return blockSource(block, file)?.source.locate(["entries", block.index, "version"]);
  },
  jsonEntry(value, index, line, file) {
    const source = lineSource(value, line);
    return entryCheck(parseV1Entry(value, index, source, file), index, source, file);
  },
};
