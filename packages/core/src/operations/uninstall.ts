/**
 * `addon uninstall <name>`: refuses while another installed add-on depends on
 * it (`--force` overrides and also carries on past failing steps), then
 * preUninstall → clean script → helm uninstall → postUninstall from the
 * package kept at install time, and removes the record.
 */
import { rmSync, unlinkSync } from "node:fs";
import { appendFile, stat } from "node:fs/promises";
import { warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, type Problem, ValidationError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { describeTarget, type KubeOptions, resolveKubeTarget } from "../cluster/kubeconfig.js";
import { parseTimeout } from "../duration.js";
import { executeSteps } from "../lifecycle/execute.js";
import { type HelmTarget, planUninstall, scriptEnv } from "../lifecycle/plan.js";
import type { AddonView } from "../manifest-view.js";
import { type OpenedAddon, openAddonPackage } from "../package-access.js";
import type { InstallRecord, StepRecord } from "../records/schema.js";
import {
  clusterStore,
  keptPackageFile,
  listRecords,
  lockFile,
  prepareCluster,
  readRecord,
  removeRecord,
  runLogFile,
  writeRecord,
  writeRecordSync,
} from "../records/store.js";
import { HELM_INSTALL_HINT, KUBECTL_INSTALL_HINT, newRunId } from "./tools.js";

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

function optionalTool(
  name: string,
  envVar: string,
  hint: string,
  resolveTool: (n: string, e: string, h?: string) => string,
): string | undefined {
  try {
    return resolveTool(name, envVar, hint);
  } catch {
    return undefined;
  }
}

export async function uninstallAddon(options: UninstallOptions): Promise<UninstallResult> {
  const name = assertValidName("package", options.name, "add-on name");
  const timeout = parseTimeout(options.timeout ?? "10m");
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
  const { acquireLock } = await import("@productive-k3s/pkg-format/lock");
  const { resolveTool, onInterrupt } = await import("@productive-k3s/pkg-format/process");
  await prepareCluster(store);
  const lock = await acquireLock(lockFile(store, name), {
    command: `productive-k3s-core addon uninstall ${name}`,
    breakLock: options.breakLock === true,
  });
  let opened: OpenedAddon | undefined;
  try {
    const record = (await readRecord(store, name)) ?? existing;
    const dependents = (await listRecords(store)).filter((r) => r.name !== name && r.dependencies.some((d) => d.name === name));
    if (dependents.length > 0) {
      const problems: Problem[] = dependents.map((d) => ({
        path: d.name,
        message: `${d.name} ${d.version} (${d.status}) depends on ${name}`,
        severity: "error",
      }));
      if (options.force !== true) {
        throw new ValidationError(
          `cannot uninstall ${name}: ${dependents.map((d) => d.name).join(", ")} depend${dependents.length === 1 ? "s" : ""} on it`,
          problems,
          {
            where: describeTarget(target),
            hint: `uninstall ${dependents.map((d) => d.name).join(", ")} first, or pass --force`,
          },
        );
      }
      addWarning(`uninstalling despite dependents (--force): ${dependents.map((d) => d.name).join(", ")}`);
    }

    // The package kept at install time provides the hooks and the clean script.
    let addon: AddonView | undefined;
    const kept = keptPackageFile(store, name);
    if (await stat(kept).catch(() => undefined)) {
      opened = await openAddonPackage(kept);
      addon = opened.addon;
    } else {
      addWarning(`the installed package was not kept (${kept}); skipping hooks and the clean script`);
    }

    const helmBin = record.release === undefined ? undefined : resolveTool("helm", "PK3S_HELM_BIN", HELM_INSTALL_HINT);
    const kubectl = optionalTool("kubectl", "PK3S_KUBECTL_BIN", KUBECTL_INSTALL_HINT, resolveTool);
    const helmForScripts = helmBin ?? optionalTool("helm", "PK3S_HELM_BIN", HELM_INSTALL_HINT, resolveTool);
    const helmTarget: HelmTarget | undefined =
      record.release === undefined || helmBin === undefined
        ? undefined
        : { helm: helmBin, release: record.release, namespace: record.namespace, kubeconfig: target.kubeconfig, context: target.context };

    const steps = planUninstall(addon, helmTarget, timeout);
    const runId = newRunId();
    const logFile = runLogFile(store, name, runId);
    const startedAt = new Date().toISOString();
    const failedRecord = (
      status: "failed" | "interrupted" | "uninstalling",
      stepsDone: StepRecord[],
      failedStep?: string,
    ): InstallRecord => {
      const endedAt = new Date().toISOString();
      return {
        ...record,
        status,
        action: "uninstall",
        ...(failedStep === undefined ? { failedStep: undefined } : { failedStep }),
        steps: stepsDone,
        runId,
        runLog: logFile,
        context: target.context,
        updatedAt: endedAt,
        history: [
          ...record.history,
          {
            runId,
            action: "uninstall" as const,
            version: record.version,
            digest: record.digest,
            status: status === "uninstalling" ? ("failed" as const) : status,
            startedAt,
            endedAt,
            ...(failedStep === undefined ? {} : { failedStep }),
            runLog: logFile,
          },
        ].slice(-50),
      };
    };
    await writeRecord(store, { ...failedRecord("uninstalling", []), history: record.history });
    const headline = `Uninstalling ${name} ${record.version} from ${describeTarget(target)} (run ${runId})`;
    process.stderr.write(`${headline}\n`);
    await appendFile(logFile, `# ${headline}\n# started ${startedAt}\n`, { mode: 0o600 });

    const done: StepRecord[] = [];
    const off = onInterrupt(() => {
      writeRecordSync(store, failedRecord("interrupted", done, steps[done.length]?.name));
      try {
        unlinkSync(lock.file);
      } catch {
        // best effort
      }
      if (opened !== undefined) rmSync(opened.tempDir, { recursive: true, force: true });
    });
    let outcome: Awaited<ReturnType<typeof executeSteps>>;
    try {
      outcome = await executeSteps(steps, {
        cwd: opened?.dir ?? store.dir,
        env: (step) =>
          addon === undefined
            ? { PK3S_STEP: step, PK3S_RUN_ID: runId }
            : scriptEnv(
                {
                  addon,
                  pkgDir: opened?.dir ?? "",
                  namespace: record.namespace,
                  release: record.release ?? name,
                  target,
                  helm: helmForScripts,
                  kubectl,
                  runId,
                  action: "uninstall",
                },
                step,
              ),
        timeoutMs: timeout.ms,
        timeoutText: timeout.text,
        logFile,
        helm: helmTarget,
        continueOnError: options.force === true,
        onStep: (r) => done.push(r),
      });
    } finally {
      off();
    }
    const failed = outcome.failed;
    if (failed !== undefined && (failed.interrupted || options.force !== true)) {
      await writeRecord(store, failedRecord(failed.interrupted ? "interrupted" : "failed", outcome.steps, failed.step));
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
      steps: outcome.steps,
      runLog: logFile,
      warnings,
    };
  } finally {
    await opened?.cleanup();
    await lock.release();
  }
}

export function formatUninstallResult(r: UninstallResult): string {
  const t = terminalLine;
  return [
    `${r.name} ${r.version} uninstalled from ${t(r.cluster.server)} (context ${t(r.cluster.context)})`,
    `  steps: ${r.steps.map((s) => `${s.name} ${s.status}`).join(", ") || "none"}`,
    `  run log: ${t(r.runLog)}`,
  ].join("\n");
}
