/**
 * OpenTofu engine. The root module is the package's `spec.engine.workingDir`
 * (in the temporary extraction); everything that persists lives in the
 * instance's engine dir: TF_DATA_DIR=engine/tf-data, state via
 * `-state=engine/terraform.tfstate` (local backend), saved plan
 * engine/plan.tfplan. Inputs reach tofu only as TF_VAR_<v> in the child's
 * environment, never on argv.
 */
import { chmod, copyFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { StepFailedError } from "@productive-k3s/pkg-format/errors";
import { resolveTool } from "@productive-k3s/pkg-format/process";
import { baseEnv, type EngineRun, runStep } from "./engine-run.js";
import { type OutputSet, parseTofuOutputs } from "./outputs-file.js";

const INSTALL_HINT = "install OpenTofu (https://opentofu.org/docs/intro/install/), or point PK3S_TOFU_BIN at the tofu binary";

export interface PlanChanges {
  add: number;
  change: number;
  destroy: number;
}

export function tofuBin(): string {
  return resolveTool("tofu", "PK3S_TOFU_BIN", INSTALL_HINT);
}

export function tofuPaths(engineDir: string): { dataDir: string; state: string; planFile: string } {
  return { dataDir: join(engineDir, "tf-data"), state: join(engineDir, "terraform.tfstate"), planFile: join(engineDir, "plan.tfplan") };
}

function env(run: EngineRun): Record<string, string | undefined> {
  return { ...baseEnv(run), TF_DATA_DIR: tofuPaths(run.paths.engineDir).dataDir, TF_IN_AUTOMATION: "1", TF_INPUT: "0" };
}

function step(run: EngineRun, name: string, args: string[], record = true): ReturnType<typeof runStep> {
  return runStep(run, name, tofuBin(), args, {
    cwd: run.resolved.workingDir,
    env: env(run),
    toolName: "tofu",
    installHint: INSTALL_HINT,
    record,
  });
}

/**
 * `init`. The dependency lock file (.terraform.lock.hcl) that init writes into
 * the root module would be lost with the temporary extraction: it is kept in
 * the engine dir and put back before the next init (unless the package ships one).
 */
export async function tofuInit(run: EngineRun): Promise<void> {
  const kept = join(run.paths.engineDir, LOCK_FILE);
  const inModule = join(run.resolved.workingDir, LOCK_FILE);
  if (!(await isFile(inModule)) && (await isFile(kept))) await copyFile(kept, inModule);
  await step(run, "init", ["init", "-input=false", "-no-color"]);
  if (await isFile(inModule)) {
    await copyFile(inModule, `${kept}.tmp`);
    await chmod(`${kept}.tmp`, 0o600);
    await rename(`${kept}.tmp`, kept);
  }
}

const LOCK_FILE = ".terraform.lock.hcl";

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Count changes in `show -json` output: replace counts as one add and one destroy. */
export function countChanges(showJson: string): PlanChanges {
  const parsed = JSON.parse(showJson) as { resource_changes?: { change?: { actions?: string[] } }[] };
  const counts: PlanChanges = { add: 0, change: 0, destroy: 0 };
  for (const rc of parsed.resource_changes ?? []) {
    const actions = rc.change?.actions ?? [];
    if (actions.includes("create")) counts.add++;
    if (actions.includes("update")) counts.change++;
    if (actions.includes("delete")) counts.destroy++;
  }
  return counts;
}

/** `plan -out` into the engine dir, then the counts from `show -json` (not echoed or logged: it holds variable values). */
export async function tofuPlan(run: EngineRun): Promise<{ planFile: string; changes: PlanChanges }> {
  const { state, planFile } = tofuPaths(run.paths.engineDir);
  await rm(planFile, { force: true });
  await step(run, "plan", ["plan", "-input=false", "-no-color", `-state=${state}`, `-out=${planFile}`]);
  const shown = await step(run, "show", ["show", "-json", "-no-color", planFile], false);
  let changes: PlanChanges;
  try {
    changes = countChanges(shown.stdout);
  } catch (err) {
    throw new StepFailedError(`tofu show -json returned something that is not JSON: ${(err as Error).message}`, { where: planFile });
  }
  return { planFile, changes };
}

export async function tofuApply(run: EngineRun, planFile: string): Promise<void> {
  const { state } = tofuPaths(run.paths.engineDir);
  try {
    await step(run, "apply", ["apply", "-input=false", "-no-color", `-state=${state}`, planFile]);
  } finally {
    // A saved plan is consumed (or stale) once apply ran.
    await rm(planFile, { force: true });
  }
}

/** `output -json`: neither echoed nor logged (sensitive outputs are in it). */
export async function tofuOutputs(run: EngineRun): Promise<OutputSet> {
  const { state } = tofuPaths(run.paths.engineDir);
  const result = await step(run, "output", ["output", "-json", "-no-color", `-state=${state}`], false);
  try {
    return parseTofuOutputs(result.stdout);
  } catch (err) {
    throw new StepFailedError(`tofu output -json returned something that is not JSON: ${(err as Error).message}`);
  }
}

export async function tofuDestroy(run: EngineRun): Promise<void> {
  const { state } = tofuPaths(run.paths.engineDir);
  await step(run, "destroy", ["destroy", "-auto-approve", "-input=false", "-no-color", `-state=${state}`]);
}
