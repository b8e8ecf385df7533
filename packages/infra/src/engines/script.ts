/**
 * Script engine, and the `spec.execution.*Script` hooks of every engine.
 * A script runs from the package root: directly when it is executable, else
 * with `bash`. It gets the merged env, PK3S_* context variables, the outputs
 * so far as PK3S_OUTPUT_<NAME>, and PK3S_OUTPUTS_FILE where it may write
 * outputs (JSON or KEY=VALUE), read back when it exits 0.
 *
 * The script engine (`shell` is an alias): apply = installScript, plan =
 * planScript (nothing to preview without one), destroy = destroyScript (run
 * by the destroy operation for every engine). Its target is this machine.
 */
import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import type { ProfileManifest } from "@productive-k3s/pkg-format/schema-profile";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { withPrivateTempDir } from "../private-temp.js";
import type { ApplyContext, ApplyOutcome, Engine, EngineKind, EngineVariables, PlanOutcome } from "./engine.js";
import { baseEnv, type EngineRun, runStep } from "./engine-run.js";
import { emptyOutputs, type OutputSet, outputsEnv, readOutputsFile } from "./outputs-file.js";

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function runScript(
  run: EngineRun,
  script: string,
  stepName: string,
  outputs: Record<string, unknown> = {},
): Promise<OutputSet> {
  const path = join(run.profile.root, script);
  return withPrivateTempDir("pk3s-script-", async (tmp) => {
    const outputsFile = join(tmp, "outputs");
    const direct = await isExecutable(path);
    await runStep(run, stepName, direct ? path : "bash", direct ? [] : [path], {
      cwd: run.profile.root,
      env: { ...baseEnv(run), ...outputsEnv(outputs), PK3S_OUTPUTS_FILE: outputsFile },
      toolName: direct ? script : "bash",
    });
    return await readOutputsFile(outputsFile);
  });
}

class ScriptEngine implements Engine {
  readonly type = "script";
  readonly installScriptIsApply = true;
  private reported: OutputSet = emptyOutputs();

  constructor(private readonly manifest: ProfileManifest) {}

  tool(): string {
    return "bash";
  }

  target(): "this-machine" {
    return "this-machine";
  }

  describeTarget(): string {
    return "runs on this machine: the profile's scripts run here";
  }

  async variables(): Promise<EngineVariables> {
    return { problems: [], env: {}, sensitiveKeys: [] };
  }

  async plan(run: EngineRun): Promise<PlanOutcome> {
    const planScript = this.manifest.spec.execution?.planScript;
    if (planScript === undefined) return { summary: "the profile has no planScript: nothing to preview" };
    await runScript(run, planScript, "plan");
    return { summary: `${planScript} completed` };
  }

  async apply(run: EngineRun, context: ApplyContext): Promise<ApplyOutcome> {
    const installScript = this.manifest.spec.execution?.installScript ?? "";
    await context.approve(`Apply? (runs ${terminalLine(installScript)})`);
    this.reported = await runScript(run, installScript, "install");
    return {};
  }

  async outputs(): Promise<OutputSet> {
    return this.reported;
  }

  async destroy(_run: EngineRun, context: { destroyScriptRan: boolean }): Promise<{ note?: string }> {
    return context.destroyScriptRan ? {} : { note: "the profile has no destroyScript: the engine removed nothing" };
  }
}

export const script: EngineKind = {
  type: "script",
  create: (manifest) => new ScriptEngine(manifest),
  stateSummary: async () => ({}),
};
