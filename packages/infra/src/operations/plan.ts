/** `profile plan`: preview what install would do; an engine that can keeps the plan for install to apply. */
import type { PlanChanges } from "../engines/engine.js";
import { withInstanceRun } from "./instance-run.js";
import { type PackageCommandOptions, prepare } from "./prepare.js";
import { savedPlanEntry } from "./saved-plan.js";

export interface PlanOptions extends PackageCommandOptions {
  breakLock?: boolean;
  echo?: boolean;
}

export interface PlanResult {
  instance: string;
  profile: string;
  version: string;
  digest: string;
  engine: string;
  changes?: PlanChanges;
  planFile?: string;
  summary: string;
  runId: string;
  status: string;
}

export async function planProfile(options: PlanOptions): Promise<PlanResult> {
  const { profile, engine, resolved, instance } = await prepare(options);
  try {
    engine.tool();
    const m = profile.manifest;
    const out = await withInstanceRun<{ changes?: PlanChanges; planFile?: string; summary: string }>(
      { instance, action: "plan", profile, resolved, breakLock: options.breakLock === true, echo: options.echo !== false },
      async ({ run, record, previousStatus }) => {
        const keep = previousStatus === "installed" ? "installed" : previousStatus === "destroyed" ? "destroyed" : "planned";
        const planned = await engine.plan(run);
        if (planned.kept !== undefined) record.plan = await savedPlanEntry(run, planned.kept);
        return {
          status: keep,
          result: {
            ...(planned.changes === undefined ? {} : { changes: planned.changes }),
            ...(planned.kept === undefined ? {} : { planFile: planned.kept.file }),
            summary: planned.summary,
          },
        };
      },
    );
    return { instance, profile: m.metadata.name, version: m.metadata.version, digest: profile.digest, engine: engine.type, ...out };
  } finally {
    await profile.cleanup();
  }
}
