/**
 * The plan `profile plan` keeps for `profile install` (engines that save one:
 * OpenTofu). Install applies it only for the same package digest and the same
 * inputs (HMAC fingerprint, resolve-inputs.ts) while its file still exists;
 * otherwise the engine plans again.
 */
import type { ApplyContext, KeptPlan } from "../engines/engine.js";
import type { EngineRun } from "../engines/engine-run.js";
import { isFile } from "../path-kind.js";
import type { InstanceRecord, SavedPlan } from "../state/instance-store.js";
import { inputsFingerprint } from "./resolve-inputs.js";

/** The record entry for a plan an engine kept during this run. */
export async function savedPlanEntry(run: EngineRun, kept: KeptPlan): Promise<SavedPlan> {
  return {
    runId: run.recorder.runId,
    file: kept.file,
    digest: run.profile.digest,
    inputsHash: await inputsFingerprint(run.resolved, run.paths.inputsKey),
    createdAt: new Date().toISOString(),
    changes: kept.changes,
  };
}

/** Whether the record's saved plan may be applied by this run. */
export async function savedPlanForApply(
  run: EngineRun,
  record: InstanceRecord,
): Promise<Pick<ApplyContext, "savedPlan" | "savedPlanIsStale">> {
  const saved = record.plan;
  if (saved === undefined) return { savedPlanIsStale: false };
  const matches =
    saved.digest === run.profile.digest &&
    saved.inputsHash === (await inputsFingerprint(run.resolved, run.paths.inputsKey)) &&
    (await isFile(saved.file));
  if (!matches) return { savedPlanIsStale: true };
  return {
    savedPlan: { runId: saved.runId, file: saved.file, ...(saved.changes === undefined ? {} : { changes: saved.changes }) },
    savedPlanIsStale: false,
  };
}
