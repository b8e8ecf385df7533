/**
 * Ansible engine (`ansible-playbook`, or PK3S_ANSIBLE_PLAYBOOK_BIN).
 * - Inventory: `spec.engine.inventory` from the package, else a generated
 *   localhost inventory (`ansible_connection=local`).
 * - Inputs: every merged env key as an extra var, from a 0600 JSON file in a
 *   private temp dir removed on every exit path (never on argv), every string
 *   marked unsafe so Ansible never templates it (ansible-vars.ts), plus
 *   `pk3s_instance`, `pk3s_action`, `pk3s_outputs_file`, `pk3s_invocation_dir`,
 *   `pk3s_engine_state_dir` and `pk3s_outputs` (the stored outputs, for destroy).
 * - plan = `--check --diff`; install = the playbook; destroy = `destroy.yml`
 *   beside the playbook when the package has one.
 * - Outputs: whatever the playbook writes to `pk3s_outputs_file` (JSON or KEY=VALUE).
 */
import { stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { resolveTool } from "@productive-k3s/pkg-format/process";
import { withPrivateTempDir } from "../private-temp.js";
import { unsafeForAnsible } from "./ansible-vars.js";
import { baseEnv, type EngineRun, runStep } from "./engine-run.js";
import { type OutputSet, readOutputsFile } from "./outputs-file.js";

const INSTALL_HINT =
  "install ansible-core (Debian/Ubuntu: apt-get install ansible-core; or pipx install ansible-core), or point PK3S_ANSIBLE_PLAYBOOK_BIN at ansible-playbook";

export function ansibleBin(): string {
  return resolveTool("ansible-playbook", "PK3S_ANSIBLE_PLAYBOOK_BIN", INSTALL_HINT);
}

export function playbookPath(run: EngineRun): string {
  return join(run.resolved.workingDir, run.profile.manifest.spec.engine.playbook ?? "playbook.yml");
}

export async function destroyPlaybookPath(run: EngineRun): Promise<string | undefined> {
  const candidate = join(dirname(playbookPath(run)), "destroy.yml");
  try {
    return (await stat(candidate)).isFile() ? candidate : undefined;
  } catch {
    return undefined;
  }
}

export async function runPlaybook(run: EngineRun, playbook: string, options: { check: boolean; stepName: string }): Promise<OutputSet> {
  const bin = ansibleBin();
  return withPrivateTempDir("pk3s-ansible-", async (tmp) => {
    const outputsFile = join(tmp, "outputs.json");
    const varsFile = join(tmp, "extra-vars.json");
    const vars = {
      ...run.resolved.env,
      pk3s_instance: run.instance,
      pk3s_action: run.action,
      pk3s_outputs_file: outputsFile,
      pk3s_invocation_dir: process.cwd(),
      pk3s_engine_state_dir: run.paths.engineDir,
      pk3s_outputs: run.storedOutputs,
    };
    await writeFile(varsFile, JSON.stringify(unsafeForAnsible(vars)), { mode: 0o600 });
    const engine = run.profile.manifest.spec.engine;
    let inventory: string;
    if (engine.inventory !== undefined) inventory = join(run.resolved.workingDir, engine.inventory);
    else {
      inventory = join(tmp, "inventory.ini");
      await writeFile(inventory, "localhost ansible_connection=local ansible_python_interpreter=auto_silent\n", { mode: 0o600 });
    }
    const args = ["-i", inventory, "--extra-vars", `@${varsFile}`, ...(options.check ? ["--check", "--diff"] : []), playbook];
    await runStep(run, options.stepName, bin, args, {
      cwd: dirname(playbook),
      env: {
        ...baseEnv(run),
        PK3S_OUTPUTS_FILE: outputsFile,
        ANSIBLE_NOCOLOR: "1",
        ANSIBLE_RETRY_FILES_ENABLED: "0",
        ANSIBLE_LOCAL_TEMP: join(tmp, "ansible-local"),
      },
      toolName: "ansible-playbook",
      installHint: INSTALL_HINT,
    });
    return await readOutputsFile(outputsFile);
  });
}
