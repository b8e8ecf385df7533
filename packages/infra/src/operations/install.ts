/**
 * `profile install`: run the profile's engine for real, then its
 * installScript, and store the outputs.
 *
 * OpenTofu: init, then apply the plan saved by `profile plan` when the
 * package digest and the inputs (fingerprint) are unchanged since, otherwise
 * plan again; show the counts; confirm; apply; `output -json`.
 */
import { stat } from "node:fs/promises";
import { log } from "@productive-k3s/pkg-format/cli";
import { MASK } from "@productive-k3s/pkg-format/redact";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { playbookPath, runPlaybook } from "../engines/ansible.js";
import type { EngineRun } from "../engines/engine-run.js";
import { type PlanChanges, tofuApply, tofuInit, tofuOutputs, tofuPlan } from "../engines/opentofu.js";
import { emptyOutputs, mergeOutputs, type OutputSet } from "../engines/outputs-file.js";
import { runScript } from "../engines/script.js";
import { type InstanceRecord, writeSensitiveOutputs } from "../state/instance-store.js";
import { approveOrThrow, assertApprovalPossible } from "./confirm.js";
import { withInstanceRun } from "./instance-run.js";
import { describeChanges } from "./plan.js";
import { type PackageCommandOptions, prepare, requireEngineTool } from "./prepare.js";
import { inputsFingerprint } from "./resolve-inputs.js";

export interface InstallOptions extends PackageCommandOptions {
  autoApprove?: boolean;
  breakLock?: boolean;
  echo?: boolean;
}

export interface InstallResult {
  instance: string;
  profile: string;
  version: string;
  digest: string;
  engine: string;
  status: string;
  runId: string;
  changes?: PlanChanges;
  /** Whether the plan saved by `profile plan` was applied (OpenTofu). */
  appliedSavedPlan?: boolean;
  outputs: Record<string, unknown>;
  recoveredFrom?: string;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Plain outputs (sensitive ones masked) for results; values equal to a secret are masked too. */
export function maskedOutputs(run: EngineRun, outputs: OutputSet): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs.values)) out[k] = outputs.sensitive.has(k) ? MASK : v;
  return JSON.parse(run.resolved.secrets.redact(JSON.stringify(out))) as Record<string, unknown>;
}

/** Store outputs: plain ones in instance.json (redacted), sensitive ones in outputs.sensitive.json (0600). */
export async function storeOutputs(run: EngineRun, record: InstanceRecord, outputs: OutputSet): Promise<void> {
  const plain: Record<string, unknown> = {};
  const sensitive: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs.values)) {
    if (outputs.sensitive.has(k)) {
      sensitive[k] = v;
      run.resolved.secrets.add(typeof v === "string" ? v : JSON.stringify(v));
    } else plain[k] = v;
  }
  record.outputs = JSON.parse(run.resolved.secrets.redact(JSON.stringify(plain))) as Record<string, unknown>;
  record.sensitiveOutputs = Object.keys(sensitive).sort();
  await writeSensitiveOutputs(run.paths, sensitive);
}

export async function installProfile(options: InstallOptions): Promise<InstallResult> {
  const { profile, resolved, instance } = await prepare(options);
  try {
    const m = profile.manifest;
    requireEngineTool(m);
    const autoApprove = options.autoApprove === true;
    assertApprovalPossible(autoApprove, `install of instance ${instance}`);
    const out = await withInstanceRun(
      {
        instance,
        action: "install",
        profile,
        resolved,
        breakLock: options.breakLock === true,
        autoRecover: true,
        echo: options.echo !== false,
      },
      async ({ run, record }) => {
        let outputs = emptyOutputs();
        let changes: PlanChanges | undefined;
        let appliedSavedPlan: boolean | undefined;
        const engine = m.spec.engine.type;
        if (engine === "opentofu") {
          await tofuInit(run);
          const fingerprint = await inputsFingerprint(resolved, run.paths.inputsKey);
          const saved = record.plan;
          let planFile: string;
          if (
            saved !== undefined &&
            saved.digest === profile.digest &&
            saved.inputsHash === fingerprint &&
            (await fileExists(saved.file))
          ) {
            log(`applying the plan saved by run ${saved.runId} (package and inputs unchanged)`);
            planFile = saved.file;
            changes = saved.changes;
            appliedSavedPlan = true;
            await run.recorder.event("plan.reused", { planRunId: saved.runId });
          } else {
            if (saved !== undefined) log("the package or the inputs changed since the saved plan: planning again");
            const fresh = await tofuPlan(run);
            planFile = fresh.planFile;
            changes = fresh.changes;
            appliedSavedPlan = false;
            record.plan = {
              runId: run.recorder.runId,
              file: planFile,
              digest: profile.digest,
              inputsHash: fingerprint,
              createdAt: new Date().toISOString(),
              changes,
            };
          }
          if (changes !== undefined) {
            log(describeChanges(changes));
            await run.recorder.event("plan.summary", { changes });
          }
          await approveOrThrow(autoApprove, "Apply?", "install");
          record.plan = undefined;
          await tofuApply(run, planFile);
          outputs = await tofuOutputs(run);
        } else if (engine === "ansible") {
          await approveOrThrow(autoApprove, `Apply? (runs ${terminalLine(m.spec.engine.playbook ?? "playbook.yml")})`, "install");
          outputs = await runPlaybook(run, playbookPath(run), { check: false, stepName: "apply" });
        } else {
          await approveOrThrow(autoApprove, `Apply? (runs ${terminalLine(m.spec.execution?.installScript ?? "")})`, "install");
          outputs = await runScript(run, m.spec.execution?.installScript ?? "", "install");
        }
        const installScript = m.spec.execution?.installScript;
        if (engine !== "script" && installScript !== undefined) {
          for (const [k, v] of Object.entries(outputs.values))
            if (outputs.sensitive.has(k)) resolved.secrets.add(typeof v === "string" ? v : JSON.stringify(v));
          mergeOutputs(outputs, await runScript(run, installScript, "install-script", outputs.values));
        }
        await storeOutputs(run, record, outputs);
        record.installedAt = new Date().toISOString();
        record.destroyedAt = undefined;
        return {
          status: "installed",
          result: {
            outputs: maskedOutputs(run, outputs),
            ...(changes === undefined ? {} : { changes }),
            ...(appliedSavedPlan === undefined ? {} : { appliedSavedPlan }),
          },
        };
      },
    );
    return { instance, profile: m.metadata.name, version: m.metadata.version, digest: profile.digest, engine: m.spec.engine.type, ...out };
  } finally {
    await profile.cleanup();
  }
}
