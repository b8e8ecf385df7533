/**
 * Ansible engine (`ansible-playbook`, or PK3S_ANSIBLE_PLAYBOOK_BIN).
 * - Inventory (ansible-inventory.ts): built from the inputs as the profile
 *   declares (hosts over SSH), or the package's own inventory file, or — when
 *   the profile declares none — this machine (`ansible_connection=local`).
 * - Inputs: every merged env key as an extra var, from a 0600 JSON file in a
 *   private temp dir removed on every exit path (never on argv), every string
 *   marked unsafe so Ansible never templates it (ansible-vars.ts), plus
 *   `pk3s_instance`, `pk3s_action`, `pk3s_outputs_file`, `pk3s_invocation_dir`,
 *   `pk3s_engine_state_dir` and `pk3s_outputs` (the stored outputs, for destroy).
 * - plan = `--check --diff`; install = the playbook; destroy = `destroy.yml`
 *   beside the playbook when the package has one.
 * - Outputs: whatever the playbook writes to `pk3s_outputs_file` (JSON or KEY=VALUE).
 * - Target: this machine without an inventory, remote with one.
 */
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { resolveTool } from "@productive-k3s/pkg-format/process";
import type { ProfileManifest } from "@productive-k3s/pkg-format/schema-profile";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { isDir, isFile } from "../path-kind.js";
import { withPrivateTempDir } from "../private-temp.js";
import { describeInventory, inventoryProblems, writeInventory } from "./ansible-inventory.js";
import { reservedKeys, unsafeForAnsible } from "./ansible-vars.js";
import type { ApplyContext, ApplyOutcome, Engine, EngineKind, EngineVariables, PlanOutcome, VariablesInput } from "./engine.js";
import { baseEnv, type EngineRun, runStep } from "./engine-run.js";
import { emptyOutputs, type OutputSet, readOutputsFile } from "./outputs-file.js";

const INSTALL_HINT =
  "install ansible-core (Debian/Ubuntu: apt-get install ansible-core; or pipx install ansible-core), or point PK3S_ANSIBLE_PLAYBOOK_BIN at ansible-playbook";

function ansibleBin(): string {
  return resolveTool("ansible-playbook", "PK3S_ANSIBLE_PLAYBOOK_BIN", INSTALL_HINT);
}

function playbookPath(run: EngineRun): string {
  return join(run.resolved.workingDir, run.profile.manifest.spec.engine.playbook ?? "playbook.yml");
}

async function destroyPlaybookPath(run: EngineRun): Promise<string | undefined> {
  const candidate = join(dirname(playbookPath(run)), "destroy.yml");
  return (await isFile(candidate)) ? candidate : undefined;
}

async function runPlaybook(run: EngineRun, playbook: string, options: { check: boolean; stepName: string }): Promise<OutputSet> {
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
    const { inventory, env: inventoryEnv } = await writeInventory(
      run.profile.manifest,
      run.resolved.workingDir,
      run.resolved.env,
      tmp,
      join(run.paths.engineDir, "known_hosts"),
    );
    const args = ["-i", inventory, "--extra-vars", `@${varsFile}`, ...(options.check ? ["--check", "--diff"] : []), playbook];
    await runStep(run, options.stepName, bin, args, {
      cwd: dirname(playbook),
      env: {
        ...baseEnv(run),
        PK3S_OUTPUTS_FILE: outputsFile,
        ANSIBLE_NOCOLOR: "1",
        ANSIBLE_RETRY_FILES_ENABLED: "0",
        ANSIBLE_LOCAL_TEMP: join(tmp, "ansible-local"),
        ...inventoryEnv,
      },
      toolName: "ansible-playbook",
      installHint: INSTALL_HINT,
    });
    return await readOutputsFile(outputsFile);
  });
}

class AnsibleEngine implements Engine {
  readonly type = "ansible";
  readonly installScriptIsApply = false;
  private reported: OutputSet = emptyOutputs();

  constructor(private readonly manifest: ProfileManifest) {}

  tool(): string {
    return ansibleBin();
  }

  target(): "this-machine" | "remote" {
    return this.manifest.spec.engine.inventory === undefined ? "this-machine" : "remote";
  }

  describeTarget(): string {
    return describeInventory(this.manifest);
  }

  async variables(input: VariablesInput): Promise<EngineVariables> {
    const engine = this.manifest.spec.engine;
    const problems: EngineVariables["problems"] = [];
    for (const key of reservedKeys(Object.keys(input.values))) {
      problems.push({ path: key, severity: "error", message: `${key} is reserved by Ansible's JSON format and cannot be an extra var` });
    }
    const playbook = engine.playbook ?? "playbook.yml";
    if (!(await isFile(join(input.workingDir, playbook)))) {
      problems.push({
        path: "spec.engine.playbook",
        severity: "error",
        message: `playbook ${engine.workingDir}/${playbook} is not in the package`,
      });
    }
    const inventory = engine.inventory;
    if (
      typeof inventory === "string" &&
      !(await isFile(join(input.workingDir, inventory))) &&
      !(await isDir(join(input.workingDir, inventory)))
    ) {
      problems.push({
        path: "spec.engine.inventory",
        severity: "error",
        message: `inventory ${engine.workingDir}/${inventory} is not in the package`,
      });
    }
    problems.push(...(await inventoryProblems(this.manifest, input.values, input.missingInputs)));
    return { problems, env: {}, sensitiveKeys: [] };
  }

  async plan(run: EngineRun): Promise<PlanOutcome> {
    await runPlaybook(run, playbookPath(run), { check: true, stepName: "plan" });
    return { summary: "ansible-playbook --check --diff completed (see the output above)" };
  }

  async apply(run: EngineRun, context: ApplyContext): Promise<ApplyOutcome> {
    await context.approve(`Apply? (runs ${terminalLine(this.manifest.spec.engine.playbook ?? "playbook.yml")})`);
    this.reported = await runPlaybook(run, playbookPath(run), { check: false, stepName: "apply" });
    return {};
  }

  async outputs(): Promise<OutputSet> {
    return this.reported;
  }

  async destroy(run: EngineRun, context: { destroyScriptRan: boolean }): Promise<{ note?: string }> {
    const playbook = await destroyPlaybookPath(run);
    if (playbook !== undefined) await runPlaybook(run, playbook, { check: false, stepName: "destroy" });
    else if (!context.destroyScriptRan) return { note: "the profile has no destroy.yml nor destroyScript: the engine removed nothing" };
    return {};
  }
}

export const ansible: EngineKind = {
  type: "ansible",
  create: (manifest) => new AnsibleEngine(manifest),
  stateSummary: async () => ({}),
  sourceLayout: { dirs: ["ansible"], isAsset: (file) => file.endsWith(".yml") || file.endsWith(".yaml") },
};
