/**
 * `addon uninstall <name>`: refuses while another installed add-on depends on
 * it (`--force` overrides and also carries on past failing steps); shows the
 * impact (an add-on that changed this machine needs consent again); backs
 * the add-on up (unless `--no-backup`); then preUninstall → clean →
 * helm uninstall → postUninstall from the package kept at install time,
 * and removes the record and the kept packages (backups and run logs stay).
 */
import { warn } from "@productive-k3s/pkg-format/cli";
import { type Problem, ValidationError } from "@productive-k3s/pkg-format/errors";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { describeTarget, type KubeOptions, type KubeTarget } from "../cluster/kubeconfig.js";
import { requireTool, resolveTools } from "../cluster/tools.js";
import { scriptEnv } from "../contract/script-env.js";
import { parseTimeout } from "../duration.js";
import { type HostChanges, hostChangesAllowed, type Impact, impactOf, settleHostChanges } from "../lifecycle/impact.js";
import { type HelmTarget, planUninstall } from "../lifecycle/plan.js";
import type { OpenedAddon } from "../package-access.js";
import type { InstallRecord, StepRecord } from "../records/schema.js";
import { type ClusterStore, listRecords, readRecord, removeRecord, writeRecord } from "../records/store.js";
import { runAddonSteps, withAddonLock } from "./addon-run.js";
import { type BackupInfo, takeBackup } from "./backup.js";
import { openKeptPackage, readInstalled } from "./installed-addon.js";

export interface UninstallOptions extends KubeOptions {
  name: string;
  force?: boolean | undefined;
  breakLock?: boolean | undefined;
  timeout?: string | undefined;
  /** `--allow-host-changes` (an add-on whose spec.impact.host is true). */
  allowHostChanges?: boolean | undefined;
  /** `--no-backup`: do not back the add-on up first. */
  noBackup?: boolean | undefined;
}

export interface UninstallResult {
  ok: true;
  name: string;
  version: string;
  cluster: { server: string; context: string };
  removed: true;
  impact?: Impact | undefined;
  hostChanges: HostChanges;
  /** The backup taken first. */
  backup?: BackupInfo | undefined;
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
  const timeout = parseTimeout(options.timeout ?? "10m");
  const force = options.force === true;
  const first = await readInstalled(options);
  const { target, store } = first;
  const name = first.record.name;
  const warnings: string[] = [];
  const addWarning = (w: string): void => {
    warnings.push(w);
    warn(terminalLine(w));
  };
  const command = `productive-k3s-core addon uninstall ${name}`;
  return withAddonLock(store, name, { command, breakLock: options.breakLock === true }, async (lock) => {
    let opened: OpenedAddon | undefined;
    try {
      const record: InstallRecord = (await readRecord(store, name)) ?? first.record;
      const despite = await checkDependents(store, target, name, force);
      if (despite !== undefined) addWarning(despite);

      // The package kept at install time provides the hooks and the clean script.
      opened = await openKeptPackage(store, name);
      if (opened === undefined) addWarning("the installed package was not kept; skipping hooks and the clean script");
      const addon = opened?.addon;
      const impact = addon === undefined ? undefined : impactOf(addon);
      // Shown before anything runs; the clean phase may undo what the add-on changed on this machine.
      const hostChanges = await settleHostChanges([{ name, version: record.version, impact }], options.allowHostChanges === true, false);

      const tools = resolveTools();
      const helmBin = record.release === undefined ? undefined : requireTool(tools.helm, tools.helmError);
      const helmTarget: HelmTarget | undefined =
        record.release === undefined || helmBin === undefined
          ? undefined
          : { helm: helmBin, release: record.release, namespace: record.namespace, kubeconfig: target.kubeconfig, context: target.context };

      const backup =
        options.noBackup === true
          ? undefined
          : await takeBackup({ installed: { target, store, record }, tools, reason: "uninstall", timeout });

      const run = await runAddonSteps({
        store,
        lock,
        action: "uninstall",
        base: record,
        context: target.context,
        headline: `Uninstalling ${name} ${record.version} from ${describeTarget(target)}`,
        startStatus: "uninstalling",
        steps: planUninstall(addon, helmTarget, timeout),
        cwd: opened?.dir ?? store.dir,
        env: (step, runId) =>
          opened === undefined
            ? { PK3S_STEP: step, PK3S_RUN_ID: runId }
            : scriptEnv(
                {
                  addon: opened.addon,
                  run: opened.run,
                  namespace: record.namespace,
                  release: record.release ?? name,
                  target,
                  helm: tools.helm,
                  kubectl: tools.kubectl,
                  runId,
                  action: "uninstall",
                  distro: record.distro,
                  present: true,
                  allowHostChanges: hostChangesAllowed(hostChanges),
                  answers: record.answers,
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
        impact,
        hostChanges,
        ...(backup === undefined ? {} : { backup }),
        steps: run.steps,
        runLog: run.logFile,
        warnings,
      };
    } finally {
      await opened?.cleanup();
    }
  });
}
