/**
 * `addon validate-installed NAME` (alias `addon test`, as `helm test`):
 * re-run the validate phase of the installed add-on, from the package kept
 * at install time, against the cluster. The record is not changed; the run
 * has its own log. A check recorded with record_fail (or a failing phase)
 * fails the command (exit 1).
 */
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { describeTarget, type KubeOptions } from "../cluster/kubeconfig.js";
import { resolveTools } from "../cluster/tools.js";
import { parseTimeout } from "../duration.js";
import { phaseStep } from "../lifecycle/plan.js";
import type { StepRecord } from "../records/schema.js";
import { withAddonLock } from "./addon-run.js";
import { openKeptPackage, readInstalled, runInstalledPhase } from "./installed-addon.js";

export interface ValidateInstalledResult {
  ok: true;
  name: string;
  version: string;
  cluster: { server: string; context: string };
  passed: true;
  steps: StepRecord[];
  runLog: string;
}

export async function validateInstalled(
  options: KubeOptions & { name: string; timeout?: string | undefined; breakLock?: boolean | undefined },
): Promise<ValidateInstalledResult> {
  const timeout = parseTimeout(options.timeout ?? "10m");
  const first = await readInstalled(options);
  const { store, target } = first;
  const command = `productive-k3s-core addon validate-installed ${first.record.name}`;
  return withAddonLock(store, first.record.name, { command, breakLock: options.breakLock === true }, async () => {
    const installed = await readInstalled(options);
    const { record } = installed;
    const opened = await openKeptPackage(store, record.name);
    try {
      const script = opened?.addon.spec.validate?.script;
      if (opened === undefined || script === undefined) {
        throw new ValidationError(`${record.name} ${record.version} has no validate phase`, [], {
          where: "spec.validate.script",
          hint: opened === undefined ? "the installed package was not kept" : "the installed package declares no spec.validate.script",
        });
      }
      const run = await runInstalledPhase({
        installed,
        opened,
        tools: resolveTools(),
        step: phaseStep("validate", "validate", script),
        action: "validate",
        headline: `Validating ${record.name} ${record.version} on ${describeTarget(target)}`,
        timeout,
      });
      if (run.failed !== undefined) throw run.failed.error;
      return {
        ok: true,
        name: record.name,
        version: record.version,
        cluster: { server: target.server, context: target.context },
        passed: true,
        steps: run.steps,
        runLog: run.logFile,
      };
    } finally {
      await opened?.cleanup();
    }
  });
}
