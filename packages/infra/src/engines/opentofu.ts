/**
 * OpenTofu engine. The root module is the package's `spec.engine.workingDir`
 * (in the temporary extraction); everything that persists lives in the
 * instance's engine dir: TF_DATA_DIR=engine/tf-data, state via
 * `-state=engine/terraform.tfstate` (local backend), saved plan
 * engine/plan.tfplan. Inputs reach tofu only as TF_VAR_<v> in the child's
 * environment, never on argv (variables: tofu-variables.ts).
 *
 * Team state (PK3S_STATE_BACKEND=postgres://…): the scenario state goes to
 * the same database through OpenTofu's `pg` backend, one schema per instance
 * (tofuSchemaName). Infra writes a `backend "pg" {}` block into an override
 * file in the working copy (pk3s_backend_override.tf, replacing whatever
 * backend the module declares) and the settings into engine/pg.tfbackend
 * (conn_str without the password, schema_name), handed to `init
 * -backend-config=<file>`; the password reaches tofu only as PGPASSWORD in
 * its environment. `-state=` is then not passed (it is for the local backend).
 *
 * plan = init, `plan -out`, `show -json` (counts), the plan kept for install.
 * apply = init, the saved plan when package and inputs are unchanged (else a
 * fresh plan), counts, confirmation, `apply <planfile>`. outputs = `output
 * -json`. destroy = init, `destroy -auto-approve`.
 */
import { createHash } from "node:crypto";
import { chmod, copyFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeFileAtomic } from "@productive-k3s/pkg-format/atomic";
import { log } from "@productive-k3s/pkg-format/cli";
import { StepFailedError } from "@productive-k3s/pkg-format/errors";
import { resolveTool } from "@productive-k3s/pkg-format/process";
import type { ProfileManifest } from "@productive-k3s/pkg-format/schema-profile";
import { isFile } from "../path-kind.js";
import {
  type ApplyContext,
  type ApplyOutcome,
  describeChanges,
  type Engine,
  type EngineKind,
  type EngineVariables,
  type PlanChanges,
  type PlanOutcome,
  type VariablesInput,
} from "./engine.js";
import { baseEnv, type EngineRun, runStep } from "./engine-run.js";
import { type OutputSet, parseTofuOutputs } from "./outputs-file.js";
import { mapVariables, scanVariables, tfVarEnv } from "./tofu-variables.js";

const INSTALL_HINT = "install OpenTofu (https://opentofu.org/docs/intro/install/), or point PK3S_TOFU_BIN at the tofu binary";

function tofuBin(): string {
  return resolveTool("tofu", "PK3S_TOFU_BIN", INSTALL_HINT);
}

function tofuPaths(engineDir: string): { dataDir: string; state: string; planFile: string; backendConfig: string } {
  return {
    dataDir: join(engineDir, "tf-data"),
    state: join(engineDir, "terraform.tfstate"),
    planFile: join(engineDir, "plan.tfplan"),
    backendConfig: join(engineDir, "pg.tfbackend"),
  };
}

function env(run: EngineRun): Record<string, string | undefined> {
  return {
    ...baseEnv(run),
    TF_DATA_DIR: tofuPaths(run.paths.engineDir).dataDir,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    ...run.database?.env,
  };
}

export const BACKEND_OVERRIDE_FILE = "pk3s_backend_override.tf";

/**
 * The PostgreSQL schema holding an instance's OpenTofu state: `pk3s_tofu_`, the instance name with
 * anything but [a-z0-9_] as `_`, and 8 hex digits of its sha256 (so `a-b` and `a_b` differ), ≤ 63 bytes.
 */
export function tofuSchemaName(instance: string): string {
  const hash = createHash("sha256").update(instance).digest("hex").slice(0, 8);
  return `pk3s_tofu_${instance.replace(/[^a-z0-9_]/g, "_").slice(0, 44)}_${hash}`;
}

/** An HCL string literal (no template sequences). */
function hclString(value: string): string {
  return JSON.stringify(value)
    .replace(/\$\{/g, () => "$${")
    .replace(/%\{/g, () => "%%{");
}

/** `-state=…` for the local backend; nothing when the state is in PostgreSQL. */
function stateArgs(run: EngineRun): string[] {
  return run.database === undefined ? [`-state=${tofuPaths(run.paths.engineDir).state}`] : [];
}

/** With team state: the pg backend override in the working copy and its settings file; the extra init arguments. */
async function configureBackend(run: EngineRun): Promise<string[]> {
  const db = run.database;
  if (db === undefined) return [];
  await writeFile(
    join(run.resolved.workingDir, BACKEND_OVERRIDE_FILE),
    '# written by productive-k3s-infra: team state\nterraform {\n  backend "pg" {}\n}\n',
    {
      mode: 0o600,
    },
  );
  const { backendConfig } = tofuPaths(run.paths.engineDir);
  await writeFileAtomic(
    backendConfig,
    `conn_str    = ${hclString(db.connString)}\nschema_name = ${hclString(tofuSchemaName(run.instance))}\n`,
    { mode: 0o600 },
  );
  return ["-reconfigure", `-backend-config=${backendConfig}`];
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
async function tofuInit(run: EngineRun): Promise<void> {
  const kept = join(run.paths.engineDir, LOCK_FILE);
  const inModule = join(run.resolved.workingDir, LOCK_FILE);
  if (!(await isFile(inModule)) && (await isFile(kept))) await copyFile(kept, inModule);
  await step(run, "init", ["init", "-input=false", "-no-color", ...(await configureBackend(run))]);
  if (await isFile(inModule)) {
    await copyFile(inModule, `${kept}.tmp`);
    await chmod(`${kept}.tmp`, 0o600);
    await rename(`${kept}.tmp`, kept);
  }
}

const LOCK_FILE = ".terraform.lock.hcl";

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
async function tofuPlan(run: EngineRun): Promise<{ planFile: string; changes: PlanChanges }> {
  const { planFile } = tofuPaths(run.paths.engineDir);
  await rm(planFile, { force: true });
  await step(run, "plan", ["plan", "-input=false", "-no-color", ...stateArgs(run), `-out=${planFile}`]);
  const shown = await step(run, "show", ["show", "-json", "-no-color", planFile], false);
  let changes: PlanChanges;
  try {
    changes = countChanges(shown.stdout);
  } catch (err) {
    throw new StepFailedError(`tofu show -json returned something that is not JSON: ${(err as Error).message}`, { where: planFile });
  }
  return { planFile, changes };
}

async function tofuApply(run: EngineRun, planFile: string): Promise<void> {
  try {
    await step(run, "apply", ["apply", "-input=false", "-no-color", ...stateArgs(run), planFile]);
  } finally {
    // A saved plan is consumed (or stale) once apply ran.
    await rm(planFile, { force: true });
  }
}

/** `output -json`: neither echoed nor logged (sensitive outputs are in it). */
async function tofuOutputs(run: EngineRun): Promise<OutputSet> {
  const result = await step(run, "output", ["output", "-json", "-no-color", ...stateArgs(run)], false);
  try {
    return parseTofuOutputs(result.stdout);
  } catch (err) {
    throw new StepFailedError(`tofu output -json returned something that is not JSON: ${(err as Error).message}`);
  }
}

async function tofuDestroy(run: EngineRun): Promise<void> {
  await step(run, "destroy", ["destroy", "-auto-approve", "-input=false", "-no-color", ...stateArgs(run)]);
}

class OpenTofuEngine implements Engine {
  readonly type = "opentofu";
  readonly installScriptIsApply = false;

  constructor(private readonly manifest: ProfileManifest) {}

  tool(): string {
    return tofuBin();
  }

  target(): "remote" {
    return "remote";
  }

  describeTarget(): string {
    return "provisions through OpenTofu's providers, run from this machine (the targets are whatever the root module's providers manage)";
  }

  async variables(input: VariablesInput): Promise<EngineVariables> {
    const workingDir = this.manifest.spec.engine.workingDir;
    const problems: EngineVariables["problems"] = [];
    const scanned = await scanVariables(input.workingDir);
    if (scanned.files.length === 0) {
      problems.push({
        path: "spec.engine.workingDir",
        severity: "error",
        message: `no *.tf files in ${workingDir} (the OpenTofu root module)`,
      });
    }
    const mapping = mapVariables(
      input.values,
      scanned.variables,
      this.manifest.spec.inputs.map((i) => i.name),
    );
    // A required variable fed by a missing input is already reported as that input.
    const prefix = mapping.prefix;
    const fedByMissing = (path: string | undefined): boolean => {
      const name = path?.startsWith("variable.") ? path.slice("variable.".length) : undefined;
      if (name === undefined) return false;
      return (
        input.missingInputs.has(`TF_VAR_${name}`) || (prefix !== undefined && input.missingInputs.has(`${prefix}${name.toUpperCase()}`))
      );
    };
    for (const p of mapping.problems.filter((q) => !fedByMissing(q.path)))
      problems.push({ ...p, ...(p.file === undefined ? {} : { file: `${workingDir}/${p.file}` }) });
    const sensitiveKeys: string[] = [];
    for (const v of scanned.variables) {
      const key = mapping.sources[v.name];
      if (v.sensitive && key !== undefined) sensitiveKeys.push(key);
    }
    return { problems, env: tfVarEnv(mapping), variables: mapping.sources, sensitiveKeys };
  }

  async plan(run: EngineRun): Promise<PlanOutcome> {
    await tofuInit(run);
    const { planFile, changes } = await tofuPlan(run);
    await run.recorder.event("plan.summary", { changes });
    log(describeChanges(changes));
    return { summary: describeChanges(changes), changes, kept: { file: planFile, changes } };
  }

  async apply(run: EngineRun, context: ApplyContext): Promise<ApplyOutcome> {
    await tofuInit(run);
    let planFile: string;
    let changes: PlanChanges | undefined;
    let appliedSavedPlan: boolean;
    const saved = context.savedPlan;
    if (saved !== undefined) {
      log(`applying the plan saved by run ${saved.runId} (package and inputs unchanged)`);
      planFile = saved.file;
      changes = saved.changes;
      appliedSavedPlan = true;
      await run.recorder.event("plan.reused", { planRunId: saved.runId });
    } else {
      if (context.savedPlanIsStale) log("the package or the inputs changed since the saved plan: planning again");
      const fresh = await tofuPlan(run);
      planFile = fresh.planFile;
      changes = fresh.changes;
      appliedSavedPlan = false;
      await context.keepPlan({ file: planFile, changes });
    }
    if (changes !== undefined) {
      log(describeChanges(changes));
      await run.recorder.event("plan.summary", { changes });
    }
    await context.approve("Apply?");
    await tofuApply(run, planFile);
    return { ...(changes === undefined ? {} : { changes }), appliedSavedPlan };
  }

  outputs(run: EngineRun): Promise<OutputSet> {
    return tofuOutputs(run);
  }

  async destroy(run: EngineRun): Promise<{ note?: string }> {
    await tofuInit(run);
    await tofuDestroy(run);
    return {};
  }
}

export const opentofu: EngineKind = {
  type: "opentofu",
  create: (manifest) => new OpenTofuEngine(manifest),
  /** The number of resources in the state file, when there is one. */
  async stateSummary(engineDir) {
    const state = await readJsonFile<{ resources?: unknown[] }>(tofuPaths(engineDir).state).catch(() => undefined);
    if (state === undefined) return {};
    return { resources: Array.isArray(state.resources) ? state.resources.length : 0 };
  },
  sourceLayout: { dirs: ["opentofu", "tofu", "terraform"], isAsset: (file) => file.endsWith(".tf") },
};
