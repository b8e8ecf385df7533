/**
 * Parsing addon.yaml / profile.yaml text into typed manifests, reporting
 * every problem at once with file:line:column, field path, expected and found.
 *
 * A manifest in the simple block style every manifest is written in is read
 * by the line reader (`yaml-lines.ts`, no document tree) and validated by the
 * same zod schema; only when that finds anything to say (an unknown field, an
 * error) or the text is outside the reader's subset is it parsed again by the
 * `yaml` library, whose source positions locate each problem. A clean
 * manifest gives the same value and no problems either way; its `locate`
 * builds the tree when first asked. Indexing 2,000 packages spent half its
 * time in the `yaml` library's document tree before.
 */
import type { z } from "zod";
import { type Problem, ValidationError } from "../errors.js";
import { problemCountMessage, sortProblems } from "./problem-list.js";
import { type AddonManifest, AddonManifestSchema } from "./schema-addon.js";
import { isStrictSemver } from "./schema-common.js";
import { findUnknownFields, issuesToProblems, unknownFieldProblem } from "./schema-problems.js";
import { duplicateInputNames, type ProfileManifest, ProfileManifestSchema } from "./schema-profile.js";
import { type StackManifest, StackManifestSchema } from "./schema-stack.js";
import { type StackLock, StackLockSchema } from "./schema-stack-lock.js";
import { parseSimpleYaml, UNSUPPORTED } from "./yaml-lines.js";
import { type FieldPath, formatFieldPath, type Location, parseYamlSource, type YamlSource } from "./yaml-source.js";

export { problemCountMessage, sortProblems };

export interface ParseOptions {
  /** Unknown fields become errors instead of warnings. */
  strict?: boolean;
}

export interface ParsedDocument<T> {
  manifest: T;
  warnings: Problem[];
  /** Source location of a field path (for problems found after parsing, e.g. missing files). */
  locate(path: FieldPath): Location | undefined;
}

/**
 * Validate YAML text against a schema. Throws ValidationError carrying every
 * error (and the warnings) when anything is wrong.
 */
export function parseYamlWithSchema<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
  options: ParseOptions = {},
  extraChecks?: (value: z.output<S>, source: YamlSource) => Problem[],
  rawChecks?: (value: unknown, source: YamlSource) => Problem[],
): ParsedDocument<z.output<S>> & { source: YamlSource } {
  const quick = quickParse(schema, text, file, extraChecks, rawChecks);
  if (quick !== undefined) return quick;
  const source = parseYamlSource(text, file);
  const problems: Problem[] = [...source.problems];
  if (problems.some((p) => p.severity === "error")) {
    throw new ValidationError(problemCountMessage(file, problems), problems, { where: file, hint: "fix the YAML syntax first" });
  }
  const value = source.value;
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) {
    problems.push({
      file,
      line: 1,
      column: 1,
      message: `expected a YAML mapping (apiVersion, kind, metadata, spec), found ${value === undefined || value === null ? "an empty document" : Array.isArray(value) ? "a list" : `a ${typeof value}`}`,
      severity: "error",
    });
    throw new ValidationError(problemCountMessage(file, problems), problems, {
      where: file,
      hint: "a manifest is a YAML mapping with apiVersion, kind, metadata and spec",
    });
  }
  const severity = options.strict === true ? "error" : "warning";
  for (const path of findUnknownFields(schema, value)) problems.push(unknownFieldProblem(path, source, file, severity));
  if (rawChecks !== undefined) problems.push(...rawChecks(value, source));
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) problems.push(...issuesToProblems(result.error.issues, value, source, file));
  else if (extraChecks !== undefined) problems.push(...extraChecks(result.data, source));
  sortProblems(problems);
  if (!result.success || problems.some((p) => p.severity === "error")) {
    throw new ValidationError(problemCountMessage(file, problems), problems, {
      where: file,
      hint:
        options.strict === true
          ? "unknown fields are errors with --strict: remove or rename each one at the line shown, or validate without --strict to accept them with a warning"
          : "change each field at the line shown to what that line says is expected (every field: docs/formats.md); " +
            "for a package you did not write, report it to its publisher",
    });
  }
  return { manifest: result.data, warnings: problems, locate: source.locate, source };
}

/** Where nothing is located: the quick path gives up on the first problem, which the full parse then locates. */
const NO_SOURCE: YamlSource = { value: undefined, problems: [], locate: () => undefined, locateKey: () => undefined };

/**
 * A manifest with nothing to report, read without a document tree; undefined when the text is outside the
 * line reader's subset or anything (warning or error) is to be reported, so the full parse words it.
 */
function quickParse<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
  extraChecks: ((value: z.output<S>, source: YamlSource) => Problem[]) | undefined,
  rawChecks: ((value: unknown, source: YamlSource) => Problem[]) | undefined,
): (ParsedDocument<z.output<S>> & { source: YamlSource }) | undefined {
  const value = parseSimpleYaml(text.split("\n"));
  if (value === UNSUPPORTED || value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  if (findUnknownFields(schema, value).length > 0) return undefined;
  if (rawChecks !== undefined && rawChecks(value, NO_SOURCE).length > 0) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) return undefined;
  if (extraChecks !== undefined && extraChecks(result.data, NO_SOURCE).length > 0) return undefined;
  let source: YamlSource | undefined;
  const full = (): YamlSource => {
    source ??= parseYamlSource(text, file);
    return source;
  };
  return {
    manifest: result.data,
    warnings: [],
    locate: (path) => full().locate(path),
    get source() {
      return full();
    },
  };
}

export function parseAddonManifest(text: string, file: string, options: ParseOptions = {}): ParsedDocument<AddonManifest> {
  const { manifest, warnings, locate } = parseYamlWithSchema(AddonManifestSchema, text, file, options);
  return { manifest, warnings, locate };
}

export function parseProfileManifest(text: string, file: string, options: ParseOptions = {}): ParsedDocument<ProfileManifest> {
  const { manifest, warnings, locate } = parseYamlWithSchema(
    ProfileManifestSchema,
    text,
    file,
    options,
    (m, source) => {
      if (isStrictSemver(m.metadata.version)) return [];
      const path = ["metadata", "version"];
      const loc = source.locate(path);
      return [
        {
          file,
          line: loc?.line,
          column: loc?.column,
          path: formatFieldPath(path),
          message: `version ${JSON.stringify(m.metadata.version)} is not semver: ranges cannot select it, only an exact match`,
          severity: "warning",
        },
      ];
    },
    (raw, source) =>
      duplicateInputNames(raw).map(({ index, name, first }) => {
        const path = ["spec", "inputs", index, "name"];
        const loc = source.locate(path);
        return {
          file,
          line: loc?.line,
          column: loc?.column,
          path: formatFieldPath(path),
          message: `expected unique input names, found ${JSON.stringify(name)} again (first at spec.inputs[${first}])`,
          severity: "error" as const,
        };
      }),
  );
  return { manifest, warnings, locate };
}

export function parseStackManifest(text: string, file: string, options: ParseOptions = {}): ParsedDocument<StackManifest> {
  const { manifest, warnings, locate } = parseYamlWithSchema(StackManifestSchema, text, file, options);
  return { manifest, warnings, locate };
}

/** A stack's lock file: written by pk3s, so an unknown field is an error (a newer pk3s wrote it, or it was edited). */
export function parseStackLock(text: string, file: string): ParsedDocument<StackLock> {
  const { manifest, warnings, locate } = parseYamlWithSchema(StackLockSchema, text, file, { strict: true });
  return { manifest, warnings, locate };
}
