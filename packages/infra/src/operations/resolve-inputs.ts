/**
 * From a package + the invoking machine's env files and --set values to the
 * exact values an engine gets, with every problem found at once:
 * env merge and input rules, OpenTofu variable mapping, engine assets,
 * target compatibility.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "@productive-k3s/pkg-format/atomic";
import { type Problem, ValidationError } from "@productive-k3s/pkg-format/errors";
import { unpassableValueProblems } from "@productive-k3s/pkg-format/process";
import { mapVariables, scanVariables, tfVarEnv, type VariableMapping } from "../engines/tofu-variables.js";
import { type EnvLayer, type MergedEnv, mergeEnv, parseSets, readEnvFiles } from "../env/merge.js";
import { SecretSet } from "../secrets.js";
import type { OpenedProfile } from "./open-profile.js";
import { checkTarget } from "./target.js";

export interface InputOptions {
  envFiles?: readonly string[];
  sets?: readonly string[];
  /** Non-sensitive values stored with the instance (destroy), between the package env and the env files. */
  stored?: Record<string, string>;
}

export interface ResolvedInputs {
  merged: MergedEnv;
  /** Values handed to the engine (all merged keys). */
  env: Record<string, string>;
  /** Extra child environment: TF_VAR_<v> for OpenTofu. */
  engineEnv: Record<string, string>;
  variables?: VariableMapping;
  /** Names whose values are never stored (sensitive inputs, keys feeding sensitive tofu variables). */
  sensitiveNames: string[];
  secrets: SecretSet;
  problems: Problem[];
  warnings: Problem[];
  workingDir: string;
}

async function exists(path: string, kind: "file" | "dir"): Promise<boolean> {
  try {
    const s = await stat(path);
    return kind === "file" ? s.isFile() : s.isDirectory();
  } catch {
    return false;
  }
}

export async function resolveInputs(profile: OpenedProfile, options: InputOptions = {}): Promise<ResolvedInputs> {
  const { manifest } = profile;
  const files = await readEnvFiles(options.envFiles ?? []);
  const layers: EnvLayer[] = [{ origin: "package", values: profile.env }];
  if (options.stored !== undefined) layers.push({ origin: "stored", values: options.stored });
  layers.push(...files.layers, parseSets(options.sets ?? []));
  const inputs = manifest.spec.inputs;
  const merged = mergeEnv(layers, inputs);
  // A NUL cannot reach the engine (env, argv): refuse it here, naming the input, never the value.
  const problems = [...merged.problems, ...unpassableValueProblems(merged.values)];
  const warnings = [...files.warnings, ...merged.warnings];
  const secrets = new SecretSet(merged.sensitiveNames.map((n) => merged.values[n] ?? ""));
  const sensitiveNames = new Set(merged.sensitiveNames);

  const engine = manifest.spec.engine;
  const workingDir = resolve(profile.root, engine.workingDir);
  if (!(await exists(workingDir, "dir"))) {
    problems.push({
      path: "spec.engine.workingDir",
      severity: "error",
      message: `the engine's working directory ${engine.workingDir} is not in the package`,
    });
  }

  let variables: VariableMapping | undefined;
  let engineEnv: Record<string, string> = {};
  if (engine.type === "opentofu") {
    const scanned = await scanVariables(workingDir);
    if (scanned.files.length === 0) {
      problems.push({
        path: "spec.engine.workingDir",
        severity: "error",
        message: `no *.tf files in ${engine.workingDir} (the OpenTofu root module)`,
      });
    }
    variables = mapVariables(
      merged.values,
      scanned.variables,
      inputs.map((i) => i.name),
    );
    // A required variable fed by a missing input is already reported as that input.
    const missingInputs = new Set(merged.problems.map((p) => p.path));
    const prefix = variables.prefix;
    const fedByMissing = (path: string | undefined): boolean => {
      const name = path?.startsWith("variable.") ? path.slice("variable.".length) : undefined;
      if (name === undefined) return false;
      return missingInputs.has(`TF_VAR_${name}`) || (prefix !== undefined && missingInputs.has(`${prefix}${name.toUpperCase()}`));
    };
    for (const p of variables.problems.filter((q) => !fedByMissing(q.path)))
      problems.push({ ...p, ...(p.file === undefined ? {} : { file: `${engine.workingDir}/${p.file}` }) });
    for (const v of scanned.variables) {
      const key = variables.sources[v.name];
      if (v.sensitive && key !== undefined) {
        sensitiveNames.add(key);
        secrets.add(merged.values[key]);
      }
    }
    engineEnv = tfVarEnv(variables);
  } else if (engine.type === "ansible") {
    const playbook = engine.playbook ?? "playbook.yml";
    if (!(await exists(join(workingDir, playbook), "file"))) {
      problems.push({
        path: "spec.engine.playbook",
        severity: "error",
        message: `playbook ${engine.workingDir}/${playbook} is not in the package`,
      });
    }
    if (
      engine.inventory !== undefined &&
      !(await exists(join(workingDir, engine.inventory), "file")) &&
      !(await exists(join(workingDir, engine.inventory), "dir"))
    ) {
      problems.push({
        path: "spec.engine.inventory",
        severity: "error",
        message: `inventory ${engine.workingDir}/${engine.inventory} is not in the package`,
      });
    }
  }
  const exec = manifest.spec.execution ?? {};
  for (const key of ["installScript", "planScript", "statusScript", "destroyScript"] as const) {
    const script = exec[key];
    if (script !== undefined && !(await exists(join(profile.root, script), "file"))) {
      problems.push({ path: `spec.execution.${key}`, severity: "error", message: `${script} is not in the package` });
    }
  }

  const target = checkTarget(manifest, merged.values);
  problems.push(...target.problems);
  warnings.push(...target.warnings);

  return {
    merged,
    env: merged.values,
    engineEnv,
    ...(variables === undefined ? {} : { variables }),
    sensitiveNames: [...sensitiveNames].sort(),
    secrets,
    problems,
    warnings,
    workingDir,
  };
}

/** Throw one ValidationError (exit 4) listing every problem, missing inputs named in the message. */
export function assertNoProblems(profile: OpenedProfile, resolved: ResolvedInputs): void {
  if (resolved.problems.length === 0) return;
  const missing = resolved.merged.problems.map((p) => p.path).filter((p): p is string => p !== undefined);
  const head =
    missing.length > 0
      ? `missing required input${missing.length === 1 ? "" : "s"} for profile ${profile.manifest.metadata.name}: ${missing.join(", ")}`
      : `profile ${profile.manifest.metadata.name} cannot run with these inputs`;
  const extra = resolved.problems.length - missing.length;
  throw new ValidationError(
    extra > 0 && missing.length > 0 ? `${head} (and ${extra} more problem${extra === 1 ? "" : "s"})` : head,
    resolved.problems,
    {
      where: profile.tgz,
      hint:
        missing.length > 0
          ? "pass the values with --env-file <file> or --set NAME=VALUE"
          : "fix the inputs or the package, then rerun validate",
    },
  );
}

/** Non-sensitive values, as stored in instance.json. */
export function storableInputs(resolved: ResolvedInputs): Record<string, string> {
  const out: Record<string, string> = {};
  const hidden = new Set(resolved.sensitiveNames);
  for (const key of Object.keys(resolved.env).sort()) {
    if (!hidden.has(key)) out[key] = resolved.secrets.redact(resolved.env[key] ?? "");
  }
  return out;
}

/**
 * Fingerprint of every value the engine gets (sensitive ones included) so a
 * saved plan is only reused for identical inputs. HMAC with a random per-instance
 * key kept in the instance's engine dir (0600), so the stored fingerprint does
 * not let anyone test guesses of a secret.
 */
export async function inputsFingerprint(resolved: ResolvedInputs, keyFile: string): Promise<string> {
  let key: Buffer;
  try {
    key = Buffer.from((await readFile(keyFile, "utf8")).trim(), "hex");
    if (key.length < 16) throw new Error("short key");
  } catch {
    key = randomBytes(32);
    await writeFileAtomic(keyFile, `${key.toString("hex")}\n`, { mode: 0o600 });
  }
  const canonical = JSON.stringify([
    Object.entries(resolved.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    Object.entries(resolved.engineEnv).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);
  return `hmac-sha256:${createHmac("sha256", key).update(canonical).digest("hex")}`;
}
