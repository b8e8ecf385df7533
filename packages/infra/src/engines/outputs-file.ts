/**
 * Outputs from the ansible and script engines. The engine gives the scenario
 * a path in PK3S_OUTPUTS_FILE (and, for ansible, the extra var
 * `pk3s_outputs_file`); the scenario writes there either
 * - a JSON object: `{"name": value, ...}`; an entry shaped like OpenTofu's
 *   `{"value": v, "sensitive": true|false}` is unwrapped and keeps its flag; or
 * - KEY=VALUE lines (the env-file grammar: data, never executed).
 * Infra stores them like OpenTofu outputs (sensitive ones apart, 0600).
 */
import { parseEnvFile } from "@productive-k3s/pkg-format/env-file";
import { StepFailedError } from "@productive-k3s/pkg-format/errors";
import { readRegularText } from "@productive-k3s/pkg-format/regular-file";

export interface OutputSet {
  values: Record<string, unknown>;
  sensitive: Set<string>;
}

export function emptyOutputs(): OutputSet {
  return { values: {}, sensitive: new Set() };
}

function isWrapped(v: unknown): v is { value: unknown; sensitive: boolean } {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    "value" in v &&
    typeof (v as { sensitive?: unknown }).sensitive === "boolean"
  );
}

export function parseOutputsText(text: string, file: string): OutputSet {
  const out = emptyOutputs();
  const trimmed = text.trim();
  if (trimmed === "") return out;
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new StepFailedError(`the scenario wrote invalid JSON to its outputs file: ${(err as Error).message}`, {
        where: file,
        hint: "write a JSON object or KEY=VALUE lines to $PK3S_OUTPUTS_FILE",
      });
    }
    for (const [name, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (isWrapped(v)) {
        out.values[name] = v.value;
        if (v.sensitive) out.sensitive.add(name);
      } else out.values[name] = v;
    }
    return out;
  }
  const parsed = parseEnvFile(text, file);
  for (const [k, v] of Object.entries(parsed.values)) out.values[k] = v;
  return out;
}

/** Merge outputs files that may not exist (a scenario may write nothing). */
export async function readOutputsFile(path: string): Promise<OutputSet> {
  let text: string;
  try {
    text = await readRegularText(path, "PK3S_OUTPUTS_FILE");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyOutputs();
    throw err;
  }
  return parseOutputsText(text, "PK3S_OUTPUTS_FILE");
}

/** Tofu's `output -json` shape: {name: {sensitive, type, value}}. */
export function parseTofuOutputs(json: string): OutputSet {
  const out = emptyOutputs();
  const parsed = JSON.parse(json.trim() === "" ? "{}" : json) as Record<string, { value?: unknown; sensitive?: boolean }>;
  for (const [name, v] of Object.entries(parsed)) {
    out.values[name] = v.value ?? null;
    if (v.sensitive === true) out.sensitive.add(name);
  }
  return out;
}

export function mergeOutputs(into: OutputSet, more: OutputSet): OutputSet {
  for (const [k, v] of Object.entries(more.values)) {
    into.values[k] = v;
    if (more.sensitive.has(k)) into.sensitive.add(k);
  }
  return into;
}

/** PK3S_OUTPUT_<NAME> variables (strings as is, other values as JSON) for scripts run after the engine. */
export function outputsEnv(values: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, v] of Object.entries(values)) {
    const key = `PK3S_OUTPUT_${name.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`;
    env[key] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return env;
}
