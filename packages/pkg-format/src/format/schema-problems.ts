/**
 * Turning zod issues into located problems ("expected X, found Y"), and
 * finding unknown fields by walking a schema next to the data (so unknown
 * fields are reported even when the document has other errors).
 */
import type { z } from "zod";
import type { Problem } from "../errors.js";
import { type FieldPath, formatFieldPath } from "./field-path.js";
import type { YamlSource } from "./yaml-source.js";

/** Short, user-facing description of a found value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return `a list (${value.length} item${value.length === 1 ? "" : "s"})`;
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (typeof value === "number") return `number ${value}`;
  if (typeof value === "boolean") return `boolean ${value}`;
  return typeof value;
}

const typeNames: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean (true/false)",
  object: "a mapping",
  array: "a list",
  int: "an integer",
};

function valueAt(root: unknown, path: FieldPath): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function issueMessage(issue: z.core.$ZodIssue, found: unknown): string {
  const foundText = describeValue(found);
  // Our schemas phrase their own messages as "expected ..." or "required field ...".
  if (/^(expected|required field)\b/.test(issue.message) && issue.code !== "invalid_type") {
    return /\bfound\b/.test(issue.message) || issue.message.startsWith("required field")
      ? issue.message
      : `${issue.message}, found ${foundText}`;
  }
  switch (issue.code) {
    case "invalid_type": {
      if (found === undefined) return `required field is missing (expected ${typeNames[issue.expected] ?? issue.expected})`;
      let hint = "";
      if (issue.expected === "string" && (typeof found === "number" || typeof found === "boolean")) hint = " (quote it in YAML)";
      return `expected ${typeNames[issue.expected] ?? issue.expected}, found ${foundText}${hint}`;
    }
    case "invalid_value":
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(" | ")}, found ${foundText}`;
    case "too_small":
      if (issue.origin === "string" && issue.minimum === 1) return `expected a non-empty string, found ${foundText}`;
      if (issue.origin === "array") return `expected at least ${issue.minimum} item(s), found ${foundText}`;
      return `expected at least ${issue.minimum}, found ${foundText}`;
    case "too_big":
      if (issue.origin === "string") return `expected at most ${issue.maximum} characters, found ${foundText}`;
      return `expected at most ${issue.maximum}, found ${foundText}`;
    default: {
      // custom, invalid_format, invalid_union...: our schemas give these an "expected ..." message.
      const msg = issue.message;
      return /\bfound\b/.test(msg) ? msg : `${msg}, found ${foundText}`;
    }
  }
}

export function issuesToProblems(issues: readonly z.core.$ZodIssue[], data: unknown, source: YamlSource, file: string): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) problems.push(unknownFieldProblem([...path, key], source, file, "error"));
      continue;
    }
    const found = issue.code !== "custom" && "input" in issue ? issue.input : valueAt(data, path);
    const loc = source.locate(path);
    problems.push({
      file,
      line: loc?.line,
      column: loc?.column,
      path: formatFieldPath(path),
      message: issueMessage(issue, found),
      severity: "error",
    });
  }
  return problems;
}

/**
 * Problems for a JSON document checked by zod (a configuration or record
 * file): the file, the field path and "expected X, found Y", without line
 * numbers. Unknown fields of strict objects are named one by one.
 */
export function jsonIssuesToProblems(issues: readonly z.core.$ZodIssue[], data: unknown, file: string): Problem[] {
  const noLines: YamlSource = { value: data, problems: [], locate: () => undefined, locateKey: () => undefined };
  return issues.flatMap((issue) => {
    if (issue.code !== "unrecognized_keys") return issuesToProblems([issue], data, noLines, file);
    const parent = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    return issue.keys.map((key) => ({
      file,
      path: formatFieldPath([...parent, key]),
      message: `unknown field ${JSON.stringify(key)}${parent.length === 0 ? "" : ` in ${formatFieldPath(parent)}`}`,
      severity: "error" as const,
    }));
  });
}

export function unknownFieldProblem(path: FieldPath, source: YamlSource, file: string, severity: "error" | "warning"): Problem {
  const loc = source.locateKey(path);
  const parent = formatFieldPath(path.slice(0, -1));
  return {
    file,
    line: loc?.line,
    column: loc?.column,
    path: formatFieldPath(path),
    message: `unknown field ${JSON.stringify(path[path.length - 1])}${parent === "" ? "" : ` in ${parent}`} (ignored)`,
    severity,
  };
}

type AnySchema = z.core.$ZodType;

function def(schema: AnySchema): { type: string } & Record<string, unknown> {
  return schema._zod.def as unknown as { type: string } & Record<string, unknown>;
}

/** Field paths present in `value` that `schema` does not declare. */
export function findUnknownFields(schema: AnySchema, value: unknown, path: FieldPath = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  // One path stack for the whole walk, copied only when an unknown field is reported: a 100,000-entry
  // catalog has no unknown fields, and copying the path per field was most of this walk's cost.
  walkUnknownFields(schema, value, [...path], out);
  return out;
}

function walkUnknownFields(schema: AnySchema, value: unknown, path: (string | number)[], out: (string | number)[][]): void {
  const d = def(schema);
  switch (d.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
    case "nonoptional":
      walkUnknownFields(d.innerType as AnySchema, value, path, out);
      return;
    case "pipe":
      walkUnknownFields(d.in as AnySchema, value, path, out);
      return;
    case "lazy":
      walkUnknownFields((d.getter as () => AnySchema)(), value, path, out);
      return;
    case "union": {
      const options = d.options as AnySchema[];
      const match = options.find((o) => isValid(o, value)) ?? options.find((o) => kindMatches(o, value));
      if (match !== undefined) walkUnknownFields(match, value, path, out);
      return;
    }
    case "array": {
      if (!Array.isArray(value)) return;
      value.forEach((item, i) => {
        path.push(i);
        walkUnknownFields(d.element as AnySchema, item, path, out);
        path.pop();
      });
      return;
    }
    case "record": {
      if (value === null || typeof value !== "object" || Array.isArray(value)) return;
      for (const [k, v] of Object.entries(value)) {
        path.push(k);
        walkUnknownFields(d.valueType as AnySchema, v, path, out);
        path.pop();
      }
      return;
    }
    case "object": {
      if (value === null || typeof value !== "object" || Array.isArray(value)) return;
      const shape = d.shape as Record<string, AnySchema>;
      const catchall = d.catchall as AnySchema | undefined;
      for (const [k, v] of Object.entries(value)) {
        const field = shape[k];
        path.push(k);
        if (field !== undefined) walkUnknownFields(field, v, path, out);
        else if (catchall === undefined || def(catchall).type === "never") out.push([...path]);
        path.pop();
      }
      return;
    }
    default:
      return;
  }
}

function isValid(schema: AnySchema, value: unknown): boolean {
  const result = schema["~standard"].validate(value);
  return !(result instanceof Promise) && result.issues === undefined;
}

function kindMatches(schema: AnySchema, value: unknown): boolean {
  const t = def(schema).type;
  if (t === "object") return value !== null && typeof value === "object" && !Array.isArray(value);
  if (t === "array") return Array.isArray(value);
  if (t === "pipe") return kindMatches(def(schema).in as AnySchema, value);
  return typeof value === t;
}
