/**
 * An installed add-on, for the commands that work from its record and the
 * package kept at install time (backup, validate-installed, uninstall,
 * history, rollback): finding it on the target cluster, opening the kept
 * package in a run directory, and running one of its phases there with
 * the record's answers.
 */
import { appendFile } from "node:fs/promises";
import { NotFoundError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { describeTarget, type KubeOptions, type KubeTarget, resolveKubeTarget } from "../cluster/kubeconfig.js";
import type { Tools } from "../cluster/tools.js";
import { type ScriptAction, scriptEnv } from "../contract/script-env.js";
import type { Timeout } from "../duration.js";
import { type ExecuteOutcome, executeSteps } from "../lifecycle/execute.js";
import type { PlannedStep } from "../lifecycle/plan.js";
import { type OpenedAddon, openAddonPackage, validateAddonArchive } from "../package-access.js";
import type { InstallRecord } from "../records/schema.js";
import { type ClusterStore, clusterStore, keptPackage, prepareAddon, readRecord, runLogFile } from "../records/store.js";
import { newRunId } from "./addon-run.js";

export interface Installed {
  target: KubeTarget;
  store: ClusterStore;
  record: InstallRecord;
}

/** The target cluster and the add-on's record on it (exit 3 when it is not installed). */
export async function readInstalled(options: KubeOptions & { name: string }): Promise<Installed> {
  const name = assertValidName("package", options.name, "add-on name");
  const target = await resolveKubeTarget(options);
  const store = clusterStore(target);
  const record = await readRecord(store, name);
  if (record === undefined) {
    throw new NotFoundError(`${name} is not installed on ${describeTarget(target)}`, {
      where: target.server,
      hint: "list what is installed with: productive-k3s-core addon list",
    });
  }
  return { target, store, record };
}

/** The package kept at install time, opened in a fresh run directory (undefined when it was not kept). */
export async function openKeptPackage(store: ClusterStore, name: string): Promise<OpenedAddon | undefined> {
  const kept = await keptPackage(store, name);
  return kept === undefined ? undefined : openAddonPackage(kept);
}

/** Whether the kept package declares a backup phase (read from the archive, nothing extracted). */
export async function keptHasBackup(store: ClusterStore, name: string): Promise<boolean> {
  const kept = await keptPackage(store, name);
  return kept !== undefined && (await validateAddonArchive(kept)).addon.spec.backup !== undefined;
}

export interface InstalledPhase {
  installed: Installed;
  opened: OpenedAddon;
  tools: Tools;
  step: PlannedStep;
  action: ScriptAction;
  /** `Backing up longhorn 1.0.0 on cluster …`: printed and logged with the run id added. */
  headline: string;
  timeout: Timeout;
  /** Default: a new one. */
  runId?: string | undefined;
}

/** Run one phase of the installed add-on from its kept package, with its own run id and log. */
export async function runInstalledPhase(p: InstalledPhase): Promise<ExecuteOutcome & { runId: string; logFile: string }> {
  const { store, record, target } = p.installed;
  const runId = p.runId ?? newRunId();
  await prepareAddon(store, record.name);
  const logFile = runLogFile(store, record.name, runId);
  const headline = `${p.headline} (run ${runId})`;
  process.stderr.write(`${headline}\n`);
  await appendFile(logFile, `# ${headline}\n# package ${record.digest}, started ${new Date().toISOString()}\n`, { mode: 0o600 });
  const outcome = await executeSteps([p.step], {
    cwd: p.opened.dir,
    env: (step) =>
      scriptEnv(
        {
          addon: p.opened.addon,
          run: p.opened.run,
          namespace: record.namespace,
          release: record.release ?? record.name,
          target,
          helm: p.tools.helm,
          kubectl: p.tools.kubectl,
          runId,
          action: p.action,
          distro: record.distro,
          present: true,
          allowHostChanges: false,
          answers: record.answers,
        },
        step,
      ),
    timeoutMs: p.timeout.ms,
    timeoutText: p.timeout.text,
    logFile,
  });
  return { ...outcome, runId, logFile };
}
