/**
 * The env merge at the heart of the profile model.
 *
 * Precedence, lowest first: the package's `profile.env` (package defaults) →
 * values stored with the instance (destroy only) → each `--env-file` in
 * order (local overrides) → `--set K=V`. Env files are parsed as data by
 * pkg-format's parser, never by a shell.
 *
 * Then `spec.inputs` is enforced:
 * - `local-override`: the value must come from the invoking machine (an env
 *   file, `--set`, or the values stored with the instance, which came from the
 *   invoking machine when it was installed). A value present only in the
 *   package's env is a placeholder: it is dropped and does not count.
 * - `package-default` and `either`: from anywhere.
 * - `required` inputs that end up missing or empty are reported together
 *   (exit 4), each with its description and where it must come from.
 */
import { closestName } from "@productive-k3s/pkg-format/did-you-mean";
import { parseEnvFile } from "@productive-k3s/pkg-format/env-file";
import type { Problem } from "@productive-k3s/pkg-format/errors";
import { NotFoundError, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { readRegularText } from "@productive-k3s/pkg-format/regular-file";
import type { ProfileInput } from "@productive-k3s/pkg-format/schema-profile";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";

export type EnvOrigin = { kind: "package" } | { kind: "stored" } | { kind: "env-file"; file: string; line: number } | { kind: "set" };

export interface EnvLayer {
  origin: EnvOrigin["kind"];
  file?: string;
  values: Record<string, string>;
  /** Line of each key, for env files. */
  lines?: Record<string, number>;
}

export interface MergedEnv {
  /** Final values after the input rules (local-override placeholders removed). */
  values: Record<string, string>;
  origins: Record<string, EnvOrigin>;
  /** Names of sensitive inputs that have a value. */
  sensitiveNames: string[];
  problems: Problem[];
  warnings: Problem[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parse `--set K=V` arguments. */
export function parseSets(sets: readonly string[]): EnvLayer {
  const values: Record<string, string> = {};
  for (const item of sets) {
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0 || !KEY.test(key)) {
      throw new UsageError(`--set expects KEY=VALUE with KEY matching [A-Za-z_][A-Za-z0-9_]*, got ${JSON.stringify(key)}`, {
        hint: "example: --set AWS_REGION=eu-west-1",
      });
    }
    values[key] = item.slice(eq + 1);
  }
  return { origin: "set", values };
}

/** Read and parse each `--env-file` (data only). Missing file → exit 3. */
export async function readEnvFiles(files: readonly string[]): Promise<{ layers: EnvLayer[]; warnings: Problem[] }> {
  const layers: EnvLayer[] = [];
  const warnings: Problem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readRegularText(file, "env file");
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new NotFoundError(`env file ${file} ${code === "ENOENT" ? "does not exist" : `cannot be read (${code})`}`, {
        where: file,
        hint: "check the --env-file path",
      });
    }
    const parsed = parseEnvFile(text, file);
    warnings.push(...parsed.warnings.filter((w) => w.severity === "warning"));
    const lines: Record<string, number> = {};
    for (const e of parsed.entries) lines[e.key] = e.line;
    layers.push({ origin: "env-file", file, values: parsed.values, lines });
  }
  return { layers, warnings };
}

function describeOrigin(origin: EnvOrigin | undefined): string {
  if (origin === undefined) return "nowhere";
  switch (origin.kind) {
    case "package":
      return "the package's profile.env";
    case "stored":
      return "the values stored with the instance";
    case "env-file":
      return `${origin.file}:${origin.line}`;
    case "set":
      return "--set";
  }
}

export function mergeEnv(layers: readonly EnvLayer[], inputs: readonly ProfileInput[]): MergedEnv {
  const values: Record<string, string> = {};
  const origins: Record<string, EnvOrigin> = {};
  /** The last value each key got from the invoking machine (stored, env file, --set). */
  const localValues = new Map<string, { value: string; origin: EnvOrigin }>();
  const packageKeys = new Set<string>();
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.values)) {
      const origin: EnvOrigin =
        layer.origin === "env-file"
          ? { kind: "env-file", file: layer.file ?? "?", line: layer.lines?.[key] ?? 0 }
          : ({ kind: layer.origin } as EnvOrigin);
      values[key] = value;
      origins[key] = origin;
      if (layer.origin === "package") packageKeys.add(key);
      else localValues.set(key, { value, origin });
    }
  }

  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  for (const input of inputs) {
    if (input.source === "local-override" && !localValues.has(input.name) && input.name in values) {
      // The package's value is a placeholder: the invoking machine must supply the real one.
      delete values[input.name];
      delete origins[input.name];
    }
    const value = values[input.name];
    if (input.required && (value === undefined || value === "")) {
      // The description comes from the package: shown in error output, so made terminal-safe.
      const desc = input.description === undefined ? "" : ` (${terminalLine(input.description)})`;
      const where =
        input.source === "local-override"
          ? `it must come from the invoking machine: add it to an --env-file or pass --set ${input.name}=...${packageKeys.has(input.name) ? "; the package's profile.env value is only a placeholder and is ignored" : ""}`
          : `set it in an --env-file or with --set ${input.name}=...`;
      problems.push({
        path: input.name,
        severity: "error",
        message: `required input ${input.name}${desc} is ${value === "" ? "empty" : "missing"} [source: ${input.source}]: ${where}`,
      });
    }
  }

  // "Did you mean": keys from the invoking machine that are neither inputs nor package keys but close to one.
  const declared = new Set<string>([...inputs.map((i) => i.name), ...packageKeys]);
  for (const [key, { origin }] of localValues) {
    if (declared.has(key) || origin.kind === "stored") continue;
    const suggestion = closestName(key, declared);
    if (suggestion !== undefined) {
      warnings.push({
        ...(origin.kind === "env-file" ? { file: origin.file, line: origin.line } : {}),
        path: key,
        severity: "warning",
        message: `${key} is not an input of this profile; did you mean ${suggestion}?`,
      });
    }
  }

  const sensitiveNames = inputs.filter((i) => i.sensitive && values[i.name] !== undefined && values[i.name] !== "").map((i) => i.name);
  return { values, origins, sensitiveNames, problems, warnings };
}

/**
 * The longest `KEY=VALUE` environment entry Linux passes to a program
 * (MAX_ARG_STRLEN, 32 pages, terminating NUL included); longer ones make the
 * spawn fail with E2BIG.
 */
const MAX_ENV_ENTRY_BYTES = 128 * 1024;

/**
 * Values no process can carry: every merged value reaches the engine through
 * its environment (and Ansible through a file), where a NUL ends the string
 * and an over-long entry makes the spawn fail. Reported as input problems
 * (exit 4) naming the key and where it came from, never showing the value
 * (it may be a secret).
 */
export function uncarriableValues(merged: MergedEnv): Problem[] {
  const problems: Problem[] = [];
  for (const [key, value] of Object.entries(merged.values)) {
    const origin = merged.origins[key];
    const at = origin?.kind === "env-file" ? { file: origin.file, line: origin.line } : {};
    const from = describeOrigin(origin);
    if (value.includes("\0")) {
      problems.push({
        ...at,
        path: key,
        severity: "error",
        message: `the value of ${key} (from ${from}) contains a NUL character, which no process environment can carry (value not shown)`,
      });
    } else if (Buffer.byteLength(key) + 2 + Buffer.byteLength(value) > MAX_ENV_ENTRY_BYTES) {
      problems.push({
        ...at,
        path: key,
        severity: "error",
        message: `the value of ${key} (from ${from}) is ${Buffer.byteLength(value)} bytes; one environment entry is limited to ${MAX_ENV_ENTRY_BYTES} bytes (pass a file path instead)`,
      });
    }
  }
  return problems;
}

/** One line per input for `validate`: where its value comes from (never the value of a sensitive one). */
export function describeInputs(
  inputs: readonly ProfileInput[],
  merged: MergedEnv,
): { name: string; required: boolean; sensitive: boolean; source: string; provided: boolean; from: string; description?: string }[] {
  return inputs.map((i) => ({
    name: i.name,
    required: i.required,
    sensitive: i.sensitive,
    source: i.source,
    provided: merged.values[i.name] !== undefined && merged.values[i.name] !== "",
    from: describeOrigin(merged.origins[i.name]),
    ...(i.description === undefined ? {} : { description: i.description }),
  }));
}
