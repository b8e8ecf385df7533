/**
 * Script engine, and the `spec.execution.*Script` hooks of every engine.
 * A script runs from the package root: directly when it is executable, else
 * with `bash`. It gets the merged env, PK3S_* context variables, the outputs
 * so far as PK3S_OUTPUT_<NAME>, and PK3S_OUTPUTS_FILE where it may write
 * outputs (JSON or KEY=VALUE), read back when it exits 0.
 */
import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { withPrivateTempDir } from "../private-temp.js";
import { baseEnv, type EngineRun, runStep } from "./engine-run.js";
import { type OutputSet, outputsEnv, readOutputsFile } from "./outputs-file.js";

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
