/**
 * `addon uninstall <name>`: refuses while another installed add-on depends on
 * it (`--force` overrides and also carries on past failing steps), then
 * preUninstall → clean script → helm uninstall → postUninstall from the
 * package kept at install time, and removes the record.
 */
import { warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, type Problem, ValidationError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { describeTarget, type KubeOptions, type KubeTarget, resolveKubeTarget } from "../cluster/kubeconfig.js";
import { requireTool, resolveTools } from "../cluster/tools.js";
import { parseTimeout } from "../duration.js";
import { type HelmTarget, planUninstall, scriptEnv } from "../lifecycle/plan.js";
import { type OpenedAddon, openAddonPackage } from "../package-access.js";
import type { InstallRecord, StepRecord } from "../records/schema.js";
import { type ClusterStore, clusterStore, keptPackage, listRecords, readRecord, removeRecord, writeRecord } from "../records/store.js";
import { runAddonSteps, withAddonLock } from "./addon-run.js";

export interface UninstallOptions extends KubeOptions {
  name: string;
  force?: boolean | undefined;
  breakLock?: boolean | undefined;
  timeout?: string | undefined;
}

export interface UninstallResult {
  ok: true;
  name: string;
  version: string;
  cluster: { server: string; context: string };
  removed: true;
  steps: StepRecord[];
  runLog: string;
  warnings: string[];
}

/** Installed add-ons that depend on `name`: refused, or (with --force) a warning. */
async function checkDependents(store: ClusterStore, target: KubeTarget, name: string, force: boolean): Promise<string | undefined> {
  const dependents = (await listRecords(store)).filter((r) => r.name !== name && r.dependencies.some((d) => d.name === name));
  if (dependents.length === 0) return undefined;
  const names = dependents.map((d) => d.name).join(", ");
  if (force) return `uninstalling despite dependents (--force): ${names}`;
  const problems: Problem[] = dependents.map((d) => ({
    path: d.name,
    message: `${d.name} ${d.version} (${d.status}) depends on ${name}`,
    severity: "error",
  }));
  throw new ValidationError(`cannot uninstall ${name}: ${names} depend${dependents.length === 1 ? "s" : ""} on it`, problems, {
    where: describeTarget(target),
    hint: `uninstall ${names} first, or pass --force`,
  });
}

export async function uninstallAddon(options: UninstallOptions): Promise<UninstallResult> {
  const name = assertValidName("package", options.name, "add-on name");
  const timeout = parseTimeout(options.timeout ?? "10m");
  const force = options.force === true;
  const target = await resolveKubeTarget(options);
  const store = clusterStore(target);
  const warnings: string[] = [];
  const addWarning = (w: string): void => {
    warnings.push(w);
    warn(terminalLine(w));
  };
  const existing = await readRecord(store, name);
  if (existing === undefined) {
    throw new NotFoundError(`${name} is not installed on ${describeTarget(target)}`, {
      where: target.server,
      hint: "list what is installed with: productive-k3s-core addon list",
    });
  }
  const command = `productive-k3s-core addon uninstall ${name}`;
  return withAddonLock(store, name, { command, breakLock: options.breakLock === true }, async (lock) => {
    let opened: OpenedAddon | undefined;
    try {
      const record: InstallRecord = (await readRecord(store, name)) ?? existing;
      const despite = await checkDependents(store, target, name, force);
      if (despite !== undefined) addWarning(despite);

      // The package kept at install time provides the hooks and the clean script.
      const kept = await keptPackage(store, name);
      if (kept !== undefined) opened = await openAddonPackage(kept);
      else addWarning("the installed package was not kept; skipping hooks and the clean script");
      const addon = opened?.addon;
      const pkgDir = opened?.dir;

      const tools = resolveTools();
      const helmBin = record.release === undefined ? undefined : requireTool(tools.helm, tools.helmError);
      const helmTarget: HelmTarget | undefined =
        record.release === undefined || helmBin === undefined
          ? undefined
          : { helm: helmBin, release: record.release, namespace: record.namespace, kubeconfig: target.kubeconfig, context: target.context };

      const run = await runAddonSteps({
        store,
        lock,
        action: "uninstall",
        base: record,
        context: target.context,
        headline: `Uninstalling ${name} ${record.version} from ${describeTarget(target)}`,
        startStatus: "uninstalling",
        steps: planUninstall(addon, helmTarget, timeout),
        cwd: pkgDir ?? store.dir,
        env: (step, runId) =>
          addon === undefined || pkgDir === undefined
            ? { PK3S_STEP: step, PK3S_RUN_ID: runId }
            : scriptEnv(
                {
                  addon,
                  pkgDir,
                  namespace: record.namespace,
                  release: record.release ?? name,
                  target,
                  helm: tools.helm,
                  kubectl: tools.kubectl,
                  runId,
                  action: "uninstall",
                },
                step,
              ),
        timeout,
        helm: helmTarget,
        continueOnError: force,
        tempDir: opened?.tempDir,
      });
      const failed = run.failed;
      if (failed !== undefined && (failed.interrupted || !force)) {
        await writeRecord(store, run.recordFor(failed.interrupted ? "interrupted" : "failed", run.steps, failed.step));
        throw failed.error;
      }
      if (failed !== undefined) addWarning(`step ${failed.step} failed; the record was removed anyway (--force)`);
      await removeRecord(store, name);
      return {
        ok: true,
        name,
        version: record.version,
        cluster: { server: target.server, context: target.context },
        removed: true,
        steps: run.steps,
        runLog: run.logFile,
        warnings,
      };
    } finally {
      await opened?.cleanup();
    }
  });
}
