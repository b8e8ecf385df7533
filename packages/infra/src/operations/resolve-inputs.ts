/**
 * From a package + the invoking machine's env files and --set values to the
 * exact values an engine gets, with every problem found at once:
 * env merge and input rules, the engine's own checks (variables, assets),
 * the package's scripts, target compatibility.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "@productive-k3s/pkg-format/atomic";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { compareText } from "@productive-k3s/pkg-format/text-order";
import type { Engine } from "../engines/engine.js";
import { engineFor } from "../engines/engine-for.js";
import { type EnvLayer, type MergedEnv, mergeEnv, parseSets, readEnvFiles, uncarriableValues } from "../env/merge.js";
import { isDir, isFile } from "../path-kind.js";
import type { OpenedProfile } from "../profile/opened-profile.js";
import type { NeededInput, ResolvedInputs } from "../profile/resolved-inputs.js";
import { SecretSet } from "../secrets.js";
import { checkTarget } from "./target.js";

export interface InputOptions {
  envFiles?: readonly string[];
  sets?: readonly string[];
  /** Non-sensitive values stored with the instance (destroy), between the package env and the env files. */
  stored?: Record<string, string>;
  /**
   * false: a contract check (`validate` without values): inputs the invoking machine must supply are
   * listed in `needed` instead of being problems, and this machine is not checked as the target.
   */
  requireValues?: boolean;
}

/** Keys Infra itself reads from the inputs (the target statement of remote profiles, see target.ts). */
const RUNTIME_KEYS = new Set(["PK3S_TARGET_ARCH", "PK3S_TARGET_OS"]);

/** Undeclared values shorter than this are not masked in output (`DEBUG=1` must not mask every "1"). */
const UNDECLARED_MASK_MIN_LENGTH = 8;

/**
 * Decision (review of issue 11): a key from the invoking machine (env file,
 * --set, or values stored by an older version) that the profile does not
 * declare — not in spec.inputs, not in the package's profile.env, not feeding
 * a variable the scenario declares, not a runtime key — is treated as
 * SENSITIVE: it still reaches the engine (an env file may rightly carry
 * AWS_PROFILE or AWS_SECRET_ACCESS_KEY for a provider), but its value is never
 * stored in instance.json nor shown by status (only its name, with the
 * sensitive ones), and it is masked in output when it is 8 characters or
 * longer. Refusing such keys would break shared env files and provider
 * credentials; dropping them would silently change what the engine gets;
 * storing them in clear (the old behaviour) kept credentials the profile never
 * promised to protect.
 */
function undeclaredKeys(profile: OpenedProfile, merged: MergedEnv, variables: Record<string, string> | undefined): string[] {
  const declared = new Set<string>([
    ...profile.manifest.spec.inputs.map((i) => i.name),
    ...Object.keys(profile.env),
    ...Object.values(variables ?? {}),
    ...RUNTIME_KEYS,
  ]);
  return Object.keys(merged.values)
    .filter((key) => !declared.has(key) && merged.origins[key]?.kind !== "package")
    .sort();
}

/**
 * What an install needs from the invoking machine: every local-override input
 * (the package's value is only a placeholder), and the required `either`
 * inputs the package gives no value.
 */
function neededFromMachine(profile: OpenedProfile, merged: MergedEnv): NeededInput[] {
  const needed: NeededInput[] = [];
  for (const i of profile.manifest.spec.inputs) {
    const given = (merged.values[i.name] ?? "") !== "";
    if (i.source === "package-default" || (i.source === "either" && (given || !i.required))) continue;
    needed.push({
      name: i.name,
      required: i.required,
      sensitive: i.sensitive,
      source: i.source,
      ...(i.description === undefined ? {} : { description: i.description }),
    });
  }
  return needed;
}

export async function resolveInputs(
  profile: OpenedProfile,
  options: InputOptions = {},
  engine: Engine = engineFor(profile.manifest),
): Promise<ResolvedInputs> {
  const { manifest } = profile;
  const files = await readEnvFiles(options.envFiles ?? []);
  const layers: EnvLayer[] = [{ origin: "package", values: profile.env }];
  if (options.stored !== undefined) layers.push({ origin: "stored", values: options.stored });
  layers.push(...files.layers, parseSets(options.sets ?? []));
  const merged = mergeEnv(layers, manifest.spec.inputs);
  const contract = options.requireValues === false;
  const needed = contract ? neededFromMachine(profile, merged) : [];
  const neededNames = new Set(needed.map((n) => n.name));
  const problems = [...merged.problems.filter((p) => p.path === undefined || !neededNames.has(p.path)), ...uncarriableValues(merged)];
  const warnings = [...files.warnings, ...merged.warnings];
  const secrets = new SecretSet(merged.sensitiveNames.map((n) => merged.values[n] ?? ""));
  const sensitiveNames = new Set(merged.sensitiveNames);

  const workingDir = resolve(profile.root, manifest.spec.engine.workingDir);
  if (!(await isDir(workingDir))) {
    problems.push({
      path: "spec.engine.workingDir",
      severity: "error",
      message: `the engine's working directory ${manifest.spec.engine.workingDir} is not in the package`,
    });
  }
  const missingInputs = new Set(merged.problems.map((p) => p.path).filter((p): p is string => p !== undefined));
  const own = await engine.variables({ workingDir, values: merged.values, missingInputs });
  problems.push(...own.problems);
  for (const key of own.sensitiveKeys) {
    sensitiveNames.add(key);
    secrets.add(merged.values[key]);
  }

  const exec = manifest.spec.execution ?? {};
  for (const key of ["installScript", "planScript", "statusScript", "destroyScript"] as const) {
    const script = exec[key];
    if (script !== undefined && !(await isFile(join(profile.root, script)))) {
      problems.push({ path: `spec.execution.${key}`, severity: "error", message: `${script} is not in the package` });
    }
  }

  const undeclared = undeclaredKeys(profile, merged, own.variables);
  for (const key of undeclared) {
    sensitiveNames.add(key);
    const value = merged.values[key] ?? "";
    if (value.length >= UNDECLARED_MASK_MIN_LENGTH) secrets.add(value);
  }
  if (undeclared.length > 0) {
    warnings.push({
      severity: "warning",
      message: `${undeclared.join(", ")} ${undeclared.length === 1 ? "is not an input" : "are not inputs"} of profile ${manifest.metadata.name}: passed to the engine, but treated as sensitive (never stored; pass ${undeclared.length === 1 ? "it" : "them"} again for destroy)`,
    });
  }

  const target = checkTarget(manifest, engine.target(), merged.values, { checkHost: !contract });
  problems.push(...target.problems);
  warnings.push(...target.warnings);

  return {
    merged,
    env: merged.values,
    engineEnv: own.env,
    ...(own.variables === undefined ? {} : { variables: own.variables }),
    sensitiveNames: [...sensitiveNames].sort(),
    secrets,
    problems,
    warnings,
    needed,
    workingDir,
  };
}

/** Throw one ValidationError (exit 4) listing every problem, missing inputs named in the message. */
export function assertNoProblems(profile: OpenedProfile, resolved: ResolvedInputs): void {
  if (resolved.problems.length === 0) return;
  const missing = resolved.merged.problems
    .filter((p) => resolved.problems.includes(p))
    .map((p) => p.path)
    .filter((p): p is string => p !== undefined);
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
    Object.entries(resolved.env).sort(([a], [b]) => compareText(a, b)),
    Object.entries(resolved.engineEnv).sort(([a], [b]) => compareText(a, b)),
  ]);
  return `hmac-sha256:${createHmac("sha256", key).update(canonical).digest("hex")}`;
}
