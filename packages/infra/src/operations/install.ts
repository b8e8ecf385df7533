/**
 * `profile install`: run the profile's engine for real (its apply asks for
 * confirmation once it knows what will change), then — unless the engine's
 * apply is the installScript itself — spec.execution.installScript with the
 * outputs so far, and store the outputs.
 */
import { MASK } from "@productive-k3s/pkg-format/redact";
import type { PlanChanges } from "../engines/engine.js";
import type { EngineRun } from "../engines/engine-run.js";
import { mergeOutputs, type OutputSet } from "../engines/outputs-file.js";
import { runScript } from "../engines/script.js";
import { type InstanceRecord, writeSensitiveOutputs } from "../state/instance-store.js";
import { approveOrThrow, assertApprovalPossible } from "./confirm.js";
import { withInstanceRun } from "./instance-run.js";
import { type PackageCommandOptions, prepare } from "./prepare.js";
import { savedPlanEntry, savedPlanForApply } from "./saved-plan.js";

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
  /** Whether the plan saved by `profile plan` was applied (engines that save plans). */
  appliedSavedPlan?: boolean;
  outputs: Record<string, unknown>;
  recoveredFrom?: string;
}

/** Plain outputs (sensitive ones masked) for results; values equal to a secret are masked too. */
function maskedOutputs(run: EngineRun, outputs: OutputSet): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs.values)) out[k] = outputs.sensitive.has(k) ? MASK : v;
  return JSON.parse(run.resolved.secrets.redact(JSON.stringify(out))) as Record<string, unknown>;
}

/** Store outputs: plain ones in instance.json (redacted), sensitive ones in outputs.sensitive.json (0600). */
async function storeOutputs(run: EngineRun, record: InstanceRecord, outputs: OutputSet): Promise<void> {
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
  const { profile, engine, resolved, instance } = await prepare(options);
  try {
    const m = profile.manifest;
    engine.tool();
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
        const applied = await engine.apply(run, {
          ...(await savedPlanForApply(run, record)),
          keepPlan: async (kept) => {
            record.plan = await savedPlanEntry(run, kept);
          },
          approve: async (question) => {
            await approveOrThrow(autoApprove, question, "install");
            // Applying consumes the saved plan (or makes it stale).
            record.plan = undefined;
          },
        });
        const outputs = await engine.outputs(run);
        const installScript = m.spec.execution?.installScript;
        if (!engine.installScriptIsApply && installScript !== undefined) {
          for (const [k, v] of Object.entries(outputs.values))
            if (outputs.sensitive.has(k)) resolved.secrets.add(typeof v === "string" ? v : JSON.stringify(v));
          mergeOutputs(outputs, await runScript(run, installScript, "install-script", outputs.values));
        }
        await storeOutputs(run, record, outputs);
        record.installedAt = new Date().toISOString();
        record.destroyedAt = undefined;
        return { status: "installed", result: { outputs: maskedOutputs(run, outputs), ...applied } };
      },
    );
    return { instance, profile: m.metadata.name, version: m.metadata.version, digest: profile.digest, engine: engine.type, ...out };
  } finally {
    await profile.cleanup();
  }
}
