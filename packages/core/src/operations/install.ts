/**
 * `addon install` / `addon upgrade` (and `dev addon install`, which packs the
 * source first and then comes here): the package flow of issue 3.
 *
 *  1. open the package (digest, safe extraction, validation; integrity → exit 6)
 *  2. read the cluster (kubectl: version, distribution, node architectures)
 *  3. compatibility (architectures, k3s version range, distros, requires.core)
 *  4. dependencies (install records on this cluster)
 *  5. run preInstall → helm upgrade --install → install script → postInstall → validate
 *  6. record the result and keep the package for uninstall
 *
 * `--dry-run` stops after 4 and returns the exact steps it would run.
 */
import { randomBytes } from "node:crypto";
import { renameSync, rmSync, unlinkSync } from "node:fs";
import { appendFile, chmod, copyFile, rename, stat, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import { warn } from "@productive-k3s/pkg-format/cli";
import {
  formatProblem,
  InterruptedError,
  isPk3sError,
  MissingToolError,
  NotFoundError,
  type Problem,
  UsageError,
  ValidationError,
} from "@productive-k3s/pkg-format/errors";
import { resolveTool as resolveToolSync } from "@productive-k3s/pkg-format/process";
import { checkClusterCompatibility, checkCoreCompatibility } from "../cluster/compatibility.js";
import { describeTarget, type KubeTarget, resolveKubeTarget } from "../cluster/kubeconfig.js";
import { type ClusterInfo, probeCluster } from "../cluster/probe.js";
import { coreVersion } from "../core-version.js";
import { parseTimeout, type Timeout } from "../duration.js";
import { checkDependencies, type DependencyResult, type InstalledVersion, parseAssumed } from "../lifecycle/dependencies.js";
import { executeSteps } from "../lifecycle/execute.js";
import { displayArgv, formatArgv, type HelmTarget, planInstall, scriptEnv, UNRESOLVED, type UserValues } from "../lifecycle/plan.js";
import { fingerprintValues } from "../lifecycle/values.js";
import { namespaceOf, releaseOf } from "../manifest-view.js";
import { type OpenedAddon, openAddonPackage } from "../package-access.js";
import type { HistoryEntry, InstallRecord, StepRecord } from "../records/schema.js";
import {
  clusterStore,
  keptPackageFile,
  listRecords,
  lockFile,
  prepareAddon,
  prepareCluster,
  readRecord,
  runLogFile,
  writeRecord,
  writeRecordSync,
} from "../records/store.js";
import { HELM_INSTALL_HINT, KUBECTL_INSTALL_HINT, newRunId } from "./tools.js";

export interface InstallOptions {
  tgz: string;
  mode: "install" | "upgrade";
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  values?: string[] | undefined;
  sets?: string[] | undefined;
  timeout?: string | undefined;
  dryRun?: boolean | undefined;
  force?: boolean | undefined;
  breakLock?: boolean | undefined;
  assumeInstalled?: string[] | undefined;
  strict?: boolean | undefined;
}

export interface PlannedCommand {
  step: string;
  argv: string[];
}

export interface InstallResult {
  ok: true;
  dryRun: boolean;
  /** What was (or would be) done; `none` when the same version and digest is already deployed. */
  action: "install" | "upgrade" | "none";
  name: string;
  version: string;
  digest: string;
  previousVersion?: string | undefined;
  cluster: { server: string; context: string; kubeconfig: string; id: string } | null;
  clusterInfo?: ClusterInfo | undefined;
  release?: string | undefined;
  namespace: string;
  dependencies: DependencyResult[];
  /** Dry-run: the commands in order, run from the extracted package root. */
  commands?: PlannedCommand[] | undefined;
  status?: InstallRecord["status"] | undefined;
  steps?: StepRecord[] | undefined;
  runLog?: string | undefined;
  warnings: string[];
}

export async function resolveUserValues(files: readonly string[], sets: readonly string[]): Promise<UserValues> {
  const resolved: string[] = [];
  for (const f of files) {
    const abs = resolve(f);
    const st = await stat(abs).catch(() => undefined);
    if (st === undefined || !st.isFile())
      throw new NotFoundError(`values file ${f} not found`, { where: abs, hint: "check the -f/--values path" });
    resolved.push(abs);
  }
  for (const s of sets) {
    if (!/^[^=]+=/.test(s)) throw new UsageError(`invalid --set "${s.split("=")[0]}": expected key=value (Helm --set syntax)`);
  }
  return { files: resolved, sets: [...sets] };
}

type Decision = { action: "install" | "upgrade" | "none"; previousVersion?: string | undefined; note?: string | undefined };

export interface Wanted {
  version: string;
  digest: string;
  valuesFingerprint: string;
  namespace: string;
}

/**
 * Same version, digest and values deployed: nothing to do (unless --force);
 * another version, package or values: upgrade. Moving an installed add-on to
 * another namespace is refused (it would leave the old release behind).
 */
export function decideAction(existing: InstallRecord | undefined, mode: "install" | "upgrade", wanted: Wanted, force: boolean): Decision {
  const { version, digest } = wanted;
  if (existing === undefined) {
    if (mode === "upgrade") {
      throw new NotFoundError(`cannot upgrade: this add-on is not installed on the cluster`, {
        hint: "install it first with: productive-k3s-core addon install --tgz <file>",
      });
    }
    return { action: "install" };
  }
  const everDeployed = existing.status === "deployed" || existing.history.some((h) => h.status === "deployed");
  if (existing.namespace !== wanted.namespace && everDeployed) {
    throw new ValidationError(`${existing.name} is installed in namespace ${existing.namespace}, not ${wanted.namespace}`, [], {
      hint: `keep --namespace ${existing.namespace}, or uninstall ${existing.name} first to move it`,
    });
  }
  const samePackage = existing.version === version && existing.digest === digest;
  const same = samePackage && existing.valuesFingerprint === wanted.valuesFingerprint;
  if (same && existing.status === "deployed" && !force) {
    return {
      action: "none",
      previousVersion: existing.version,
      note: `${existing.name} ${version} is already installed with this package (use --force to reinstall)`,
    };
  }
  if (existing.status !== "deployed") {
    return {
      action: mode,
      previousVersion: existing.version,
      note: `the last ${existing.action} of ${existing.name} ${existing.version} ended ${existing.status}; running it again`,
    };
  }
  if (same) return { action: mode, previousVersion: existing.version, note: `reinstalling ${existing.name} ${version} (--force)` };
  const note = samePackage
    ? `${existing.name} ${version} is installed with other values; upgrading to apply them`
    : existing.version === version
      ? `${existing.name} ${version} is installed from a different package (digest ${existing.digest}); upgrading`
      : `${existing.name} ${existing.version} is installed; upgrading to ${version}`;
  return { action: "upgrade", previousVersion: existing.version, note };
}

export async function installAddon(options: InstallOptions): Promise<InstallResult> {
  const timeout = parseTimeout(options.timeout ?? "10m");
  const assumed = (options.assumeInstalled ?? []).map(parseAssumed);
  if (assumed.length > 0 && options.dryRun !== true) throw new UsageError("--assume-installed is only valid with --dry-run");
  const values = await resolveUserValues(options.values ?? [], options.sets ?? []);
  const tgz = resolve(options.tgz);
  const st = await stat(tgz).catch(() => undefined);
  if (st === undefined || !st.isFile())
    throw new NotFoundError(`package ${options.tgz} not found`, { where: tgz, hint: "check the --tgz path" });
  const opened = await openAddonPackage(tgz, { strict: options.strict === true });
  try {
    return await installOpened(opened, tgz, options, timeout, values, assumed);
  } finally {
    await opened.cleanup();
  }
}

interface Tools {
  kubectl: string | undefined;
  helm: string | undefined;
}

function tryResolve(name: string, envVar: string, hint: string): { path?: string; error?: unknown } {
  try {
    return { path: resolveToolSync(name, envVar, hint) };
  } catch (error) {
    return { error };
  }
}

async function installOpened(
  opened: OpenedAddon,
  tgz: string,
  options: InstallOptions,
  timeout: Timeout,
  values: UserValues,
  assumed: { name: string; version: string }[],
): Promise<InstallResult> {
  const { addon, digest } = opened;
  const { name, version } = addon.metadata;
  const dryRun = options.dryRun === true;
  const warnings: string[] = [];
  const addWarning = (w: string): void => {
    warnings.push(w);
    warn(w);
  };
  for (const p of opened.warnings) addWarning(formatProblem(p));

  // 2. the cluster
  let target: KubeTarget | undefined;
  let skipped: string | undefined;
  try {
    target = await resolveKubeTarget(options);
  } catch (err) {
    if (!dryRun || !isPk3sError(err)) throw err;
    skipped = err.message;
  }
  const kubectlRes = tryResolve("kubectl", "PK3S_KUBECTL_BIN", KUBECTL_INSTALL_HINT);
  if (kubectlRes.error !== undefined) {
    if (!dryRun) {
      const e = kubectlRes.error;
      const where = target === undefined ? "" : ` to read ${describeTarget(target)}`;
      if (e instanceof MissingToolError) throw new MissingToolError("kubectl", `kubectl is needed${where}: ${e.message}`, { hint: e.hint });
      throw e;
    }
    skipped ??= kubectlRes.error instanceof Error ? kubectlRes.error.message : String(kubectlRes.error);
  }
  const needsHelm = addon.spec.chart !== undefined || addon.spec.type === "helm";
  const helmRes = tryResolve("helm", "PK3S_HELM_BIN", HELM_INSTALL_HINT);
  if (helmRes.error !== undefined && addon.spec.chart !== undefined) {
    if (!dryRun) throw helmRes.error;
    addWarning(
      `${helmRes.error instanceof Error ? helmRes.error.message : String(helmRes.error)}; a real install would stop here (exit 5)`,
    );
  } else if (helmRes.error !== undefined && needsHelm) {
    addWarning("helm not found: this helm-type add-on's scripts get no PK3S_HELM_BIN");
  }
  const tools: Tools = { kubectl: kubectlRes.path, helm: helmRes.path };

  let clusterInfo: ClusterInfo | undefined;
  if (target !== undefined && tools.kubectl !== undefined) {
    try {
      clusterInfo = await probeCluster(tools.kubectl, target);
    } catch (err) {
      // Like `helm template`, a dry run is useful without a live cluster: it says what it could not check.
      if (!dryRun || !isPk3sError(err) || err instanceof InterruptedError) throw err;
      skipped = err.message;
    }
    if (clusterInfo === undefined && skipped === undefined) throw new InterruptedError("interrupted while reading the cluster");
  }
  if (clusterInfo === undefined) {
    addWarning(`cluster checks skipped: ${skipped ?? "no cluster"}`);
  }

  // 3 + 4. compatibility and dependencies, every problem at once
  const problems: Problem[] = [...checkCoreCompatibility(addon, coreVersion)];
  if (clusterInfo !== undefined) problems.push(...checkClusterCompatibility(addon, clusterInfo));
  const store = target === undefined ? undefined : clusterStore(target);
  const records = store === undefined ? [] : await listRecords(store);
  const installed: InstalledVersion[] = [
    ...records.map((r) => ({ name: r.name, version: r.version, status: r.status })),
    ...assumed.map((a) => ({ ...a, status: "assumed" as const })),
  ];
  const where = target === undefined ? "the target cluster" : `cluster ${target.server}`;
  const deps = checkDependencies(addon.spec.dependencies ?? [], installed, where);
  problems.push(...deps.problems);
  if (problems.length > 0) {
    throw new ValidationError(
      `${name} ${version} cannot be installed on ${where}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
      problems,
      {
        where: target === undefined ? tgz : describeTarget(target),
        hint: "each problem above says what to change; with --dry-run, --assume-installed name@version counts a dependency as installed",
      },
    );
  }

  const namespace = namespaceOf(addon, options.namespace);
  const release = releaseOf(addon);
  const cluster =
    target === undefined ? null : { server: target.server, context: target.context, kubeconfig: target.kubeconfig, id: target.clusterId };
  const base = { name, version, digest, cluster, clusterInfo, release, namespace, dependencies: deps.results, warnings };

  if (dryRun) {
    const existing = records.find((r) => r.name === name);
    const valuesFingerprint = await fingerprintValues(opened.dir, addon.spec.chart?.values ?? [], values);
    const decision = decideAction(existing, options.mode, { version, digest, valuesFingerprint, namespace }, options.force === true);
    if (decision.note !== undefined) addWarning(decision.note);
    const helmTarget: HelmTarget | undefined =
      release === undefined
        ? undefined
        : {
            helm: tools.helm ?? UNRESOLVED.helm,
            release,
            namespace,
            kubeconfig: target?.kubeconfig ?? UNRESOLVED.kubeconfig,
            context: target?.context ?? UNRESOLVED.context,
          };
    const steps = decision.action === "none" ? [] : planInstall(addon, helmTarget, timeout, values);
    return {
      ok: true,
      dryRun: true,
      action: decision.action,
      previousVersion: decision.previousVersion,
      ...base,
      commands: steps.map((s) => ({ step: s.name, argv: displayArgv(s, false) })),
    };
  }

  // Real run: target, kubectl and (for charts) helm are resolved here.
  if (target === undefined || store === undefined) throw new Error("unreachable: no target outside dry-run");
  return runInstall({ opened, tgz, options, timeout, values, target, store, tools, namespace, release, base });
}

interface RunInput {
  opened: OpenedAddon;
  tgz: string;
  options: InstallOptions;
  timeout: Timeout;
  values: UserValues;
  target: KubeTarget;
  store: ReturnType<typeof clusterStore>;
  tools: Tools;
  namespace: string;
  release: string | undefined;
  base: Omit<InstallResult, "ok" | "dryRun" | "action">;
}

async function keepPackage(tgz: string, dest: string): Promise<void> {
  const tmp = `${dest}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await copyFile(tgz, tmp);
    await chmod(tmp, 0o600);
    await rename(tmp, dest);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

async function runInstall(input: RunInput): Promise<InstallResult> {
  const { opened, options, target, store, tools, namespace, release, timeout, values, base } = input;
  const { addon, digest } = opened;
  const { name, version } = addon.metadata;
  const { acquireLock } = await import("@productive-k3s/pkg-format/lock");
  await prepareCluster(store);
  const lock = await acquireLock(lockFile(store, name), {
    command: `productive-k3s-core addon ${options.mode} ${name}@${version}`,
    breakLock: options.breakLock === true,
  });
  try {
    const existing = await readRecord(store, name);
    const valuesFingerprint = await fingerprintValues(opened.dir, addon.spec.chart?.values ?? [], values);
    const decision = decideAction(existing, options.mode, { version, digest, valuesFingerprint, namespace }, options.force === true);
    if (decision.note !== undefined) process.stderr.write(`${decision.note}\n`);
    if (decision.action === "none") {
      return {
        ok: true,
        dryRun: false,
        action: "none",
        previousVersion: decision.previousVersion,
        ...base,
        status: existing?.status,
        runLog: existing?.runLog,
      };
    }
    const action = decision.action;
    const runId = newRunId();
    await prepareAddon(store, name);
    const logFile = runLogFile(store, name, runId);
    // The new package is promoted to the kept copy only once we know it describes what is on the cluster
    // (see below: a failed upgrade that Helm rolled back keeps the previous one).
    const kept = keptPackageFile(store, name);
    const incoming = `${kept}.incoming`;
    await keepPackage(input.tgz, incoming);
    const helmTarget: HelmTarget | undefined =
      release === undefined || tools.helm === undefined
        ? undefined
        : { helm: tools.helm, release, namespace, kubeconfig: target.kubeconfig, context: target.context };
    const steps = planInstall(addon, helmTarget, timeout, values);
    const startedAt = new Date().toISOString();
    const headline = `${action === "upgrade" ? "Upgrading" : "Installing"} ${name} ${version} on ${describeTarget(target)} (run ${runId})`;
    process.stderr.write(`${headline}\n`);
    await appendFile(logFile, `# ${headline}\n# package ${digest}, started ${startedAt}\n`, { mode: 0o600 });

    const done: StepRecord[] = [];
    const recordFor = (status: InstallRecord["status"], stepsDone: StepRecord[], failedStep?: string): InstallRecord => {
      const endedAt = new Date().toISOString();
      const entry: HistoryEntry = {
        runId,
        action,
        version,
        digest,
        status: status === "uninstalling" ? "failed" : status,
        startedAt,
        endedAt,
        ...(failedStep === undefined ? {} : { failedStep }),
        runLog: logFile,
      };
      return {
        schemaVersion: 1,
        name,
        version,
        digest,
        ...(release === undefined ? {} : { release }),
        namespace,
        valuesFingerprint,
        status,
        action,
        ...(failedStep === undefined ? {} : { failedStep }),
        steps: stepsDone,
        runId,
        runLog: logFile,
        dependencies: (addon.spec.dependencies ?? []).map((d) => ({ name: d.name, version: d.version })),
        context: target.context,
        installedAt: existing?.installedAt ?? startedAt,
        updatedAt: endedAt,
        history: [...(existing?.history ?? []), entry].slice(-50),
      };
    };

    const { onInterrupt } = await import("@productive-k3s/pkg-format/process");
    // Ctrl-C between steps (no child running): record and release synchronously, the process exits 130 next.
    const off = onInterrupt(() => {
      const next = steps[done.length];
      writeRecordSync(store, recordFor("interrupted", done, next?.name));
      try {
        renameSync(incoming, kept);
      } catch {
        // best effort
      }
      try {
        unlinkSync(lock.file);
      } catch {
        // best effort
      }
      rmSync(opened.tempDir, { recursive: true, force: true });
    });
    let outcome: Awaited<ReturnType<typeof executeSteps>>;
    try {
      outcome = await executeSteps(steps, {
        cwd: opened.dir,
        env: (step) =>
          scriptEnv(
            {
              addon,
              pkgDir: opened.dir,
              namespace,
              release: release ?? name,
              target,
              helm: tools.helm,
              kubectl: tools.kubectl,
              runId,
              action,
            },
            step,
          ),
        timeoutMs: timeout.ms,
        timeoutText: timeout.text,
        logFile,
        helm: helmTarget,
        onStep: (r) => done.push(r),
      });
    } finally {
      off();
    }
    const failed = outcome.failed;
    const status: InstallRecord["status"] = failed === undefined ? "deployed" : failed.interrupted ? "interrupted" : "failed";
    const record = recordFor(status, outcome.steps, failed?.step);
    if (status === "failed" && action === "upgrade" && existing !== undefined) {
      // Helm rolled the release back: the record and the kept package describe the version still on the cluster.
      await unlink(incoming).catch(() => undefined);
      await writeRecord(store, {
        ...record,
        version: existing.version,
        digest: existing.digest,
        valuesFingerprint: existing.valuesFingerprint,
        dependencies: existing.dependencies,
        attempted: { version, digest, runId },
      });
    } else {
      await rename(incoming, kept);
      await writeRecord(store, record);
    }
    if (failed !== undefined) throw failed.error;
    return {
      ok: true,
      dryRun: false,
      action,
      previousVersion: decision.previousVersion,
      ...base,
      status,
      steps: outcome.steps,
      runLog: logFile,
    };
  } finally {
    await lock.release();
  }
}

/** Human summary of an install/upgrade result. */
export function formatInstallResult(r: InstallResult): string {
  const lines: string[] = [];
  const target = r.cluster === null ? "unknown (cluster checks skipped)" : `${r.cluster.server} (context ${r.cluster.context})`;
  if (r.dryRun) {
    lines.push(`Target cluster: ${target}`);
    if (r.clusterInfo !== undefined) {
      lines.push(
        `Cluster: ${r.clusterInfo.distro} ${r.clusterInfo.version}, node architectures: ${r.clusterInfo.architectures.join(", ") || "none"}`,
      );
    }
    lines.push(`Package: ${r.name} ${r.version} (${r.digest})`);
    lines.push(r.clusterInfo === undefined ? "Compatibility: requires.core ok (cluster checks skipped)" : "Compatibility: ok");
    const deps = r.dependencies.map((d) => `${d.name} ${d.range} (${d.satisfiedBy ?? "?"})`).join(", ");
    lines.push(`Dependencies: ${deps === "" ? "none" : deps}`);
    if (r.action === "none") {
      lines.push(`Nothing to do: ${r.name} ${r.version} is already installed with this package.`);
    } else {
      lines.push(`Action: ${r.action}${r.previousVersion === undefined ? "" : ` (installed: ${r.previousVersion})`}`);
      lines.push("Would run, in order, from the extracted package root:");
      for (const [i, c] of (r.commands ?? []).entries()) lines.push(`  ${i + 1}. [${c.step}] ${formatArgv(c.argv)}`);
    }
    return lines.join("\n");
  }
  if (r.action === "none") return `${r.name} ${r.version} is already installed on ${target}; nothing to do (use --force to reinstall)`;
  lines.push(`${r.name} ${r.version} ${r.action === "upgrade" ? "upgraded" : "installed"} on ${target}`);
  if (r.release !== undefined) lines.push(`  release: ${r.release} (namespace ${r.namespace})`);
  else lines.push(`  namespace: ${r.namespace}`);
  lines.push(`  steps: ${(r.steps ?? []).map((s) => `${s.name} ${s.status}`).join(", ") || "none"}`);
  if (r.runLog !== undefined) lines.push(`  run log: ${r.runLog}`);
  return lines.join("\n");
}
