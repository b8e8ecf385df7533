/**
 * Which OpenTofu root-module variables a scenario declares, and which env
 * keys feed them.
 *
 * HCL-lite scanner: enough HCL to find top-level `variable "name" { ... }`
 * blocks in the root module's `*.tf` files (not subdirectories: those are
 * modules) and whether each has a `default` and `sensitive = true`.
 * It understands `#`, `//` and `/* *\/` comments, "strings" with escapes and
 * `${...}` interpolation, and `<<EOF` / `<<-EOF` heredocs, and tracks brace
 * depth so that a `default` inside a nested block (e.g. `validation {}`) is
 * not mistaken for the variable's default.
 * Limits: `*.tf.json` files are not read; a string nested inside an
 * interpolation that itself contains an unbalanced `}` confuses it; a
 * `sensitive` that is an expression rather than the literal `true` is
 * treated as not sensitive.
 *
 * Mapping (lead decision): `TF_VAR_<v>` feeds variable `<v>` (an undeclared
 * `<v>` is an error); additionally, when all the profile's non-TF_VAR_ input
 * names share a leading `PREFIX_` (the published aws profile: AWS_REGION,
 * AWS_KEY_PAIR_NAME, ...), a key `PREFIX_<REST>` feeds variable
 * `lower(<REST>)` when such a variable is declared (otherwise the key is
 * simply not a variable). An explicit TF_VAR_ wins over a prefixed key.
 * Values reach tofu only as `TF_VAR_<v>` in the child's environment.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Problem } from "@productive-k3s/pkg-format/errors";

export interface TfVariable {
  name: string;
  hasDefault: boolean;
  sensitive: boolean;
  file: string;
  line: number;
}

/** Blank out comments, string contents and heredoc bodies (keeping quotes, braces of code and newlines). */
export function maskHcl(text: string): string {
  const out = text.split("");
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "#" || (c === "/" && next === "/")) {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? n : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"') {
      let j = i + 1;
      let interp = 0;
      while (j < n) {
        const d = text[j];
        if (interp === 0 && d === "\\") j += 2;
        else if (d === "$" && text[j + 1] === "{") {
          interp++;
          j += 2;
        } else if (interp > 0 && d === "{") {
          interp++;
          j++;
        } else if (interp > 0 && d === "}") {
          interp--;
          j++;
        } else if (interp === 0 && (d === '"' || d === "\n")) break;
        else j++;
      }
      blank(i + 1, Math.min(j, n));
      i = j + 1;
    } else if (c === "<" && next === "<") {
      const m = /^<<-?([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n/.exec(text.slice(i, i + 200));
      if (m === null) {
        i += 2;
        continue;
      }
      const bodyStart = i + m[0].length;
      const closer = new RegExp(`^[ \\t]*${m[1]}[ \\t]*$`, "m");
      const rest = text.slice(bodyStart);
      const found = closer.exec(rest);
      const stop = found === null ? n : bodyStart + found.index + found[0].length;
      blank(i, stop);
      i = stop;
    } else i++;
  }
  return out.join("");
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text[k] === "\n") line++;
  return line;
}

export function scanVariablesText(text: string, file: string): TfVariable[] {
  const masked = maskHcl(text);
  const found: TfVariable[] = [];
  let depth = 0;
  for (let i = 0; i < masked.length; i++) {
    const c = masked[i];
    if (c === "{") depth++;
    else if (c === "}") depth = Math.max(0, depth - 1);
    else if (depth === 0 && c === "v" && (i === 0 || /\s/.test(masked[i - 1] ?? ""))) {
      const head = /^variable\s*"/.exec(masked.slice(i, i + 40));
      if (head === null) continue;
      const nameStart = i + head[0].length;
      const nameEnd = text.indexOf('"', nameStart);
      if (nameEnd < 0) break;
      const name = text.slice(nameStart, nameEnd);
      const open = masked.indexOf("{", nameEnd);
      if (open < 0) break;
      // Find the matching brace, and collect the block's own (depth 1) text.
      let d = 1;
      let j = open + 1;
      let own = "";
      for (; j < masked.length && d > 0; j++) {
        const e = masked[j];
        if (e === "{") d++;
        else if (e === "}") d--;
        else if (d === 1) own += e;
        if (d === 1 && (e === "{" || e === "}")) own += " ";
      }
      found.push({
        name,
        hasDefault: /(^|[\s;])default\s*=/.test(own),
        sensitive: /(^|[\s;])sensitive\s*=\s*true\b/.test(own),
        file,
        line: lineAt(text, i),
      });
      i = j - 1;
    }
  }
  return found;
}

/** Variables declared by the root module in `dir` (its `*.tf` files, sorted). */
export async function scanVariables(dir: string): Promise<{ variables: TfVariable[]; files: string[] }> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith(".tf")).map((e) => e.name);
  } catch {
    names = [];
  }
  names.sort();
  const variables: TfVariable[] = [];
  for (const name of names) variables.push(...scanVariablesText(await readFile(join(dir, name), "utf8"), name));
  return { variables, files: names };
}

/** The `PREFIX_` shared by all non-TF_VAR_ input names (at least one segment, leaving a rest), if any. */
export function sharedInputPrefix(inputNames: readonly string[]): string | undefined {
  const names = inputNames.filter((n) => !n.startsWith("TF_VAR_"));
  if (names.length === 0) return undefined;
  const parts = names.map((n) => n.split("_"));
  let k = 0;
  for (;;) {
    const segment = parts[0]?.[k];
    if (segment === undefined || segment === "") break;
    if (!parts.every((p) => p.length > k + 1 && p[k] === segment)) break;
    k++;
  }
  return k === 0 ? undefined : `${(parts[0] ?? []).slice(0, k).join("_")}_`;
}

export interface VariableMapping {
  /** variable name → value */
  values: Record<string, string>;
  /** variable name → env key it came from */
  sources: Record<string, string>;
  prefix: string | undefined;
  problems: Problem[];
}

export function mapVariables(
  env: Record<string, string>,
  variables: readonly TfVariable[],
  inputNames: readonly string[],
): VariableMapping {
  const declared = new Map(variables.map((v) => [v.name, v]));
  const values: Record<string, string> = {};
  const sources: Record<string, string> = {};
  const problems: Problem[] = [];
  const keys = Object.keys(env).sort();
  for (const key of keys) {
    if (!key.startsWith("TF_VAR_")) continue;
    const name = key.slice("TF_VAR_".length);
    if (!declared.has(name)) {
      problems.push({
        path: key,
        severity: "error",
        message: `${key} sets variable "${name}", which the scenario does not declare (declared: ${[...declared.keys()].join(", ") || "none"})`,
      });
      continue;
    }
    values[name] = env[key] ?? "";
    sources[name] = key;
  }
  const prefix = sharedInputPrefix(inputNames);
  if (prefix !== undefined) {
    for (const key of keys) {
      if (!key.startsWith(prefix) || key.startsWith("TF_VAR_")) continue;
      const name = key.slice(prefix.length).toLowerCase();
      if (!declared.has(name) || name in values) continue;
      values[name] = env[key] ?? "";
      sources[name] = key;
    }
  }
  for (const v of variables) {
    if (v.hasDefault || v.name in values) continue;
    const alt = prefix === undefined ? "" : ` or ${prefix}${v.name.toUpperCase()}`;
    problems.push({
      file: v.file,
      line: v.line,
      path: `variable.${v.name}`,
      severity: "error",
      message: `required variable "${v.name}" (no default) has no value: set TF_VAR_${v.name}${alt}`,
    });
  }
  return { values, sources, prefix, problems };
}

/** The child-environment form: TF_VAR_<v>=value for every mapped variable. */
export function tfVarEnv(mapping: VariableMapping): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(mapping.values)) env[`TF_VAR_${name}`] = value;
  return env;
}
