/**
 * Parsing addon.yaml / profile.yaml text into typed manifests, reporting
 * every problem at once with file:line:column, field path, expected and found.
 */
import type { z } from "zod";
import { type Problem, ValidationError } from "../errors.js";
import { type AddonManifest, AddonManifestSchema } from "./schema-addon.js";
import { isStrictSemver } from "./schema-common.js";
import { findUnknownFields, issuesToProblems, unknownFieldProblem } from "./schema-problems.js";
import { duplicateInputNames, type ProfileManifest, ProfileManifestSchema } from "./schema-profile.js";
import { type StackManifest, StackManifestSchema } from "./schema-stack.js";
import { type StackLock, StackLockSchema } from "./schema-stack-lock.js";
import { type FieldPath, formatFieldPath, type Location, parseYamlSource, type YamlSource } from "./yaml-source.js";

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

export function problemCountMessage(file: string, problems: readonly Problem[]): string {
  const errors = problems.filter((p) => p.severity === "error").length;
  return `${file} is invalid: ${errors} problem${errors === 1 ? "" : "s"}`;
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

export function sortProblems(problems: Problem[]): void {
  problems.sort((a, b) => (a.file ?? "").localeCompare(b.file ?? "") || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
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
