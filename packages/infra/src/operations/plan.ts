/** `profile plan`: preview what install would do, keeping the plan for install to apply. */
import { log } from "@productive-k3s/pkg-format/cli";
import { playbookPath, runPlaybook } from "../engines/ansible.js";
import { type PlanChanges, tofuInit, tofuPlan } from "../engines/opentofu.js";
import { runScript } from "../engines/script.js";
import { instancePaths } from "../state/instance-store.js";
import { withInstanceRun } from "./instance-run.js";
import { type PackageCommandOptions, prepare, requireEngineTool } from "./prepare.js";
import { inputsFingerprint } from "./resolve-inputs.js";

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

export function describeChanges(c: PlanChanges): string {
  return `Plan: ${c.add} to add, ${c.change} to change, ${c.destroy} to destroy.`;
}

export async function planProfile(options: PlanOptions): Promise<PlanResult> {
  const { profile, resolved, instance } = await prepare(options);
  try {
    requireEngineTool(profile.manifest);
    const m = profile.manifest;
    const paths = instancePaths(instance);
    const out = await withInstanceRun<{ changes?: PlanChanges; planFile?: string; summary: string }>(
      { instance, action: "plan", profile, resolved, breakLock: options.breakLock === true, echo: options.echo !== false },
      async ({ run, record, previousStatus }) => {
        const keep = previousStatus === "installed" ? "installed" : previousStatus === "destroyed" ? "destroyed" : "planned";
        if (m.spec.engine.type === "opentofu") {
          await tofuInit(run);
          const { planFile, changes } = await tofuPlan(run);
          record.plan = {
            runId: run.recorder.runId,
            file: planFile,
            digest: profile.digest,
            inputsHash: await inputsFingerprint(resolved, paths.inputsKey),
            createdAt: new Date().toISOString(),
            changes,
          };
          await run.recorder.event("plan.summary", { changes });
          log(describeChanges(changes));
          return { status: keep, result: { changes, planFile, summary: describeChanges(changes) } };
        }
        if (m.spec.engine.type === "ansible") {
          await runPlaybook(run, playbookPath(run), { check: true, stepName: "plan" });
          return { status: keep, result: { summary: "ansible-playbook --check --diff completed (see the output above)" } };
        }
        const planScript = m.spec.execution?.planScript;
        if (planScript === undefined) return { status: keep, result: { summary: "the profile has no planScript: nothing to preview" } };
        await runScript(run, planScript, "plan");
        return { status: keep, result: { summary: `${planScript} completed` } };
      },
    );
    return { instance, profile: m.metadata.name, version: m.metadata.version, digest: profile.digest, engine: m.spec.engine.type, ...out };
  } finally {
    await profile.cleanup();
  }
}
