/**
 * Reading a catalog index (v1 or the published v1alpha1) into normalised entries.
 */
import { type Problem, ValidationError } from "../errors.js";
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
import { formatFieldPath, parseYamlSource, type YamlSource } from "./yaml-source.js";

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

const ENGINE_TAGS = new Set(["opentofu", "ansible", "script", "shell"]);
/** The v1alpha1 kinds that are package types (the published `kind: stack` entries are stacks). */
const ALPHA_KINDS: ReadonlySet<string> = new Set<CatalogEntry["type"]>(["addon", "profile", "stack"]);

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
  if (typeof kind === "string" && !ALPHA_KINDS.has(kind)) {
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
  const e = r.data;
  // v1alpha1 has no engine field; the published index tags profiles with it.
  const engine = e.kind === "profile" ? e.tags?.find((t) => ENGINE_TAGS.has(t)) : undefined;
  const entry: CatalogEntry = {
    name: e.name,
    version: e.version,
    type: e.kind as CatalogEntry["type"],
    url: e.artifact.url,
    ...(e.artifact.digest === undefined ? {} : { digest: e.artifact.digest }),
    ...(e.artifact.size === undefined ? {} : { size: e.artifact.size }),
    ...(e.description === undefined ? {} : { description: e.description }),
    ...(e.category === undefined ? {} : { category: e.category }),
    ...(e.deprecated === undefined ? {} : { deprecated: e.deprecated }),
    ...(e.install?.inputs === undefined ? {} : { inputs: e.install.inputs }),
    ...(engine === undefined ? {} : { engine }),
  };
  return { entry, problems };
}
