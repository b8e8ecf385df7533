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
 *
 * With `--dependency-tgz` (repeatable) the dependencies run first, in the
 * order given, in the same run: the cluster, the tools and the records are
 * read once (install-context.ts), every package is checked before any runs,
 * and a dependency the cluster already satisfies is skipped.
 */
import { randomBytes } from "node:crypto";
import { renameSync, rmSync, unlinkSync } from "node:fs";
import { appendFile, chmod, copyFile, rename, stat, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import { log, warn } from "@productive-k3s/pkg-format/cli";
import { formatProblem, NotFoundError, type Problem, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { onInterrupt } from "@productive-k3s/pkg-format/process";
import { quoteForTerminal, terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import semver from "semver";
import { checkClusterCompatibility, checkCoreCompatibility } from "../cluster/compatibility.js";
import { describeTarget } from "../cluster/kubeconfig.js";
import type { ClusterInfo } from "../cluster/probe.js";
import { coreVersion } from "../core-version.js";
import { parseTimeout, type Timeout } from "../duration.js";
import { checkDependencies, type DependencyResult, type InstalledVersion, parseAssumed } from "../lifecycle/dependencies.js";
import { executeSteps } from "../lifecycle/execute.js";
import { displayArgv, formatArgv, type HelmTarget, planInstall, scriptEnv, UNRESOLVED, type UserValues } from "../lifecycle/plan.js";
import { fingerprintValues } from "../lifecycle/values.js";
import { namespaceOf, releaseOf } from "../manifest-view.js";
import { type AddonPackage, readAddonPackage } from "../package-access.js";
import type { HistoryEntry, InstallRecord, StepRecord } from "../records/schema.js";
import {
  keptPackageFile,
  lockFile,
  prepareAddon,
  prepareCluster,
  readRecord,
  runLogFile,
  writeRecord,
  writeRecordSync,
} from "../records/store.js";
import { valuesKey } from "../records/values-key.js";
import { helmProblem, type InstallContext, readInstallContext, throwContextFailure } from "./install-context.js";
import { newRunId } from "./tools.js";

export interface InstallOptions {
  tgz: string;
  /** `--dependency-tgz`: installed first, in this order, in the same run. Values, namespace and force are the `--tgz` package's only. */
  dependencyTgzs?: string[] | undefined;
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
  /** With `--dependency-tgz` only: one entry per dependency package, in the order run. */
  dependencyPackages?: (PackageResult | SkippedPackage)[] | undefined;
}

/** A `--dependency-tgz` package's result: an InstallResult without the cluster (the top-level document has it). */
export type PackageResult = Omit<InstallResult, "cluster" | "clusterInfo" | "dependencyPackages">;

/** A dependency the cluster already satisfies: nothing was (or would be) run for it. */
export interface SkippedPackage {
  ok: true;
  dryRun: boolean;
  action: "skip";
  name: string;
  version: string;
  digest: string;
  /** The deployed version that satisfies every range below. */
  installedVersion: string;
  /** What the packages of this run require of it. */
  requiredBy: { by: string; range: string }[];
  reason: string;
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
    if (!/^[^=]+=/.test(s))
      throw new UsageError(`invalid --set ${quoteForTerminal(s.split("=")[0] ?? "")}: expected key=value (Helm --set syntax)`);
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
  // No fingerprint: the record predates keyed fingerprints, so the values it was installed with are unknown.
  const valuesKnown = existing.valuesFingerprint !== undefined;
  const same = samePackage && valuesKnown && existing.valuesFingerprint === wanted.valuesFingerprint;
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
    ? valuesKnown
      ? `${existing.name} ${version} is installed with other values; upgrading to apply them`
      : `${existing.name} ${version} was recorded without a values fingerprint (by an older Core); upgrading to apply the values given`
    : existing.version === version
      ? `${existing.name} ${version} is installed from a different package (digest ${existing.digest}); upgrading`
      : `${existing.name} ${existing.version} is installed; upgrading to ${version}`;
  return { action: "upgrade", previousVersion: existing.version, note };
}

async function packageFile(file: string, flag: string): Promise<string> {
  const abs = resolve(file);
  const st = await stat(abs).catch(() => undefined);
  if (st === undefined || !st.isFile())
    throw new NotFoundError(`package ${file} not found`, { where: abs, hint: `check the ${flag} path` });
  return abs;
}

/** One package of the run: the `--tgz` one (the root) or a `--dependency-tgz`. */
interface Member extends AddonPackage {
  root: boolean;
}

/**
 * `addon install --tgz R [--dependency-tgz D]...`: the dependencies first, in
 * the order given, then R, in one run (one cluster probe, one read of the
 * records). User values, --namespace and --force are R's only. The result is
 * R's; `dependencyPackages` holds the dependencies' (only when there are any).
 */
export async function installAddon(options: InstallOptions): Promise<InstallResult> {
  if (options.namespace !== undefined) assertValidName("namespace", options.namespace, "--namespace");
  const timeout = parseTimeout(options.timeout ?? "10m");
  const assumed = (options.assumeInstalled ?? []).map(parseAssumed);
  if (assumed.length > 0 && options.dryRun !== true) throw new UsageError("--assume-installed is only valid with --dry-run");
  const values = await resolveUserValues(options.values ?? [], options.sets ?? []);
  const rootTgz = await packageFile(options.tgz, "--tgz");
  const files: { tgz: string; root: boolean }[] = [];
  for (const f of options.dependencyTgzs ?? []) files.push({ tgz: await packageFile(f, "--dependency-tgz"), root: false });
  files.push({ tgz: rootTgz, root: true });
  const dryRun = options.dryRun === true;
  // The cluster is read while the packages are: a package's own error is still the one reported first.
  const reading = readInstallContext({ kubeconfig: options.kubeconfig, context: options.context, dryRun });
  reading.catch(() => undefined);
  const members: Member[] = [];
  // Ctrl-C between packages: no extraction is left behind (runInstall removes its own on the way out too).
  const off = onInterrupt(() => {
    for (const m of members) if (m.opened !== undefined) rmSync(m.opened.tempDir, { recursive: true, force: true });
  });
  try {
    // Every package is verified before anything is checked or run; a dry run extracts only what it reads files from.
    for (const f of files) {
      members.push({ ...(await readAddonPackage(f.tgz, { strict: options.strict === true, extract: !dryRun })), root: f.root });
    }
    return await installMembers(members, await reading, options, timeout, values, assumed);
  } finally {
    off();
    await Promise.all(members.map((m) => m.opened?.cleanup()));
  }
}

/** In a run of several packages, an error names the package it is about (Core's exit code is kept). */
async function naming<T>(label: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (label !== undefined && err instanceof Error && !err.message.startsWith(label)) err.message = `${label}: ${err.message}`;
    throw err;
  }
}

const isSkipped = (p: object): p is SkippedPackage => "installedVersion" in p;

/** name → what the packages of this run require of it. */
function requirementsOf(members: readonly Member[]): Map<string, { by: string; range: string }[]> {
  const out = new Map<string, { by: string; range: string }[]>();
  for (const m of members) {
    for (const d of m.addon.spec.dependencies ?? []) {
      const list = out.get(d.name) ?? [];
      list.push({ by: m.addon.metadata.name, range: d.version === "" ? "*" : d.version });
      out.set(d.name, list);
    }
  }
  return out;
}

/** A dependency is skipped when a deployed version satisfies every range the run requires of it. */
function skipFor(member: Member, ctx: InstallContext, required: readonly { by: string; range: string }[]): SkippedPackage | undefined {
  const { name, version } = member.addon.metadata;
  const deployed = ctx.records.find((r) => r.name === name && r.status === "deployed");
  if (deployed === undefined) return undefined;
  if (!required.every((r) => semver.satisfies(deployed.version, r.range, { includePrerelease: true }))) return undefined;
  const ranges = required.map((r) => `${r.range} (${r.by})`).join(", ");
  return {
    ok: true,
    dryRun: ctx.dryRun,
    action: "skip",
    name,
    version,
    digest: member.digest,
    installedVersion: deployed.version,
    requiredBy: [...required],
    reason: `${name} ${deployed.version} is installed on ${ctx.where}${ranges === "" ? "" : ` and satisfies ${ranges}`}`,
  };
}

/** A package that passed its checks, with what applies to it (user values, namespace, release). */
interface Checked {
  member: Member;
  values: UserValues;
  namespace: string;
  release: string | undefined;
  base: PackageBase;
}

type PackageBase = Omit<PackageResult, "ok" | "dryRun" | "action" | "previousVersion">;

async function installMembers(
  members: readonly Member[],
  ctx: InstallContext,
  options: InstallOptions,
  timeout: Timeout,
  values: UserValues,
  assumed: { name: string; version: string }[],
): Promise<InstallResult> {
  const dryRun = options.dryRun === true;
  const batch = members.length > 1;
  const names = members.map((m) => m.addon.metadata.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    throw new UsageError(`${twice} is given more than once (--tgz and --dependency-tgz name one package each)`, {
      hint: "pass each add-on once",
    });
  }
  throwContextFailure(
    ctx,
    members.some((m) => m.addon.spec.chart !== undefined),
  );
  const skippedWarning = ctx.clusterInfo === undefined ? `cluster checks skipped: ${ctx.skipped ?? "no cluster"}` : undefined;
  if (skippedWarning !== undefined) warn(skippedWarning);
  // What counts as installed for the dependency checks: the records, --assume-installed, and the packages planned earlier in this run.
  const installed: InstalledVersion[] = [
    ...ctx.records.map((r) => ({ name: r.name, version: r.version, status: r.status })),
    ...assumed.map((a) => ({ ...a, status: "assumed" as const })),
  ];
  const requirements = requirementsOf(members);

  // Every package is checked before any runs: a real run changes nothing when a later package is incompatible.
  const planned: (Checked | SkippedPackage)[] = [];
  for (const member of members) {
    const { name, version } = member.addon.metadata;
    const skip = member.root ? undefined : skipFor(member, ctx, requirements.get(name) ?? []);
    if (skip !== undefined) {
      log(`${dryRun ? "would skip" : "skipping"} ${name} ${version}: ${skip.reason}`);
      planned.push(skip);
      continue;
    }
    const checked = await naming(batch ? `${name} ${version}` : undefined, () =>
      checkMember(
        member,
        ctx,
        installed,
        member.root ? values : { files: [], sets: [] },
        options,
        member.root ? skippedWarning : undefined,
      ),
    );
    planned.push(checked);
    installed.push({ name, version, status: "assumed" });
  }

  const results: (PackageResult | SkippedPackage)[] = [];
  for (const p of planned) {
    if (isSkipped(p)) {
      results.push(p);
      continue;
    }
    const { name, version } = p.member.addon.metadata;
    const mode = p.member.root ? options.mode : "install";
    const force = p.member.root && options.force === true;
    results.push(
      await naming(batch ? `${name} ${version}` : undefined, () =>
        dryRun ? planMember(p, ctx, mode, force, timeout) : runInstall(p, ctx, mode, force, options.breakLock === true, timeout),
      ),
    );
  }

  const root = results.at(-1);
  if (root === undefined || isSkipped(root)) throw new Error("unreachable: the --tgz package is never skipped");
  const cluster =
    ctx.target === undefined
      ? null
      : { server: ctx.target.server, context: ctx.target.context, kubeconfig: ctx.target.kubeconfig, id: ctx.target.clusterId };
  const { ok, dryRun: ranDry, action, previousVersion, name, version, digest, ...rest } = root;
  return {
    ok,
    dryRun: ranDry,
    action,
    previousVersion,
    name,
    version,
    digest,
    cluster,
    clusterInfo: ctx.clusterInfo,
    ...rest,
    ...(batch ? { dependencyPackages: results.slice(0, -1) } : {}),
  };
}

/** Compatibility (Core, cluster) and dependencies of one package, every problem at once. */
async function checkMember(
  member: Member,
  ctx: InstallContext,
  installed: readonly InstalledVersion[],
  values: UserValues,
  options: InstallOptions,
  skippedWarning: string | undefined,
): Promise<Checked> {
  const { addon, digest, root } = member;
  const { name, version } = addon.metadata;
  const warnings: string[] = [];
  const addWarning = (w: string): void => {
    warnings.push(w);
    warn(terminalLine(w));
  };
  for (const p of member.warnings) addWarning(formatProblem(p));
  const helm = helmProblem(ctx.tools, addon, ctx.dryRun);
  if (helm !== undefined) addWarning(helm);
  if (skippedWarning !== undefined) warnings.push(skippedWarning); // printed once, when the cluster was read

  const problems: Problem[] = [...checkCoreCompatibility(addon, coreVersion)];
  if (ctx.clusterInfo !== undefined) problems.push(...checkClusterCompatibility(addon, ctx.clusterInfo));
  const deps = checkDependencies(addon.spec.dependencies ?? [], installed, ctx.where);
  problems.push(...deps.problems);
  if (problems.length > 0) {
    throw new ValidationError(
      `${name} ${version} cannot be installed on ${ctx.where}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
      problems,
      {
        where: ctx.target === undefined ? member.tgz : describeTarget(ctx.target),
        hint: "each problem above says what to change; with --dry-run, --assume-installed name@version counts a dependency as installed",
      },
    );
  }
  const namespace = namespaceOf(addon, root ? options.namespace : undefined);
  const release = releaseOf(addon);
  return {
    member,
    values,
    namespace,
    release,
    base: { name, version, digest, release, namespace, dependencies: deps.results, warnings },
  };
}

/** Dry run: what would be done for one checked package, and the exact commands. */
async function planMember(
  p: Checked,
  ctx: InstallContext,
  mode: "install" | "upgrade",
  force: boolean,
  timeout: Timeout,
): Promise<PackageResult> {
  const { addon, digest, opened } = p.member;
  const existing = ctx.records.find((r) => r.name === addon.metadata.name);
  const packageValues = addon.spec.chart?.values ?? [];
  // readAddonPackage extracts every package that has values files; the others are fingerprinted without a directory.
  if (opened === undefined && packageValues.length > 0) throw new Error("unreachable: a package with values files is extracted");
  const valuesFingerprint = await fingerprintValues(await valuesKey({ create: false }), opened?.dir ?? "", packageValues, p.values);
  const decision = decideAction(
    existing,
    mode,
    { version: addon.metadata.version, digest, valuesFingerprint, namespace: p.namespace },
    force,
  );
  if (decision.note !== undefined) {
    p.base.warnings.push(decision.note);
    warn(decision.note);
  }
  const helmTarget: HelmTarget | undefined =
    p.release === undefined
      ? undefined
      : {
          helm: ctx.tools.helm ?? UNRESOLVED.helm,
          release: p.release,
          namespace: p.namespace,
          kubeconfig: ctx.target?.kubeconfig ?? UNRESOLVED.kubeconfig,
          context: ctx.target?.context ?? UNRESOLVED.context,
        };
  const steps = decision.action === "none" ? [] : planInstall(addon, helmTarget, timeout, p.values);
  return {
    ok: true,
    dryRun: true,
    action: decision.action,
    previousVersion: decision.previousVersion,
    ...p.base,
    commands: steps.map((s) => ({ step: s.name, argv: displayArgv(s, false) })),
  };
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

/** Real run of one checked package: its own lock, record and run log. */
async function runInstall(
  p: Checked,
  ctx: InstallContext,
  mode: "install" | "upgrade",
  force: boolean,
  breakLock: boolean,
  timeout: Timeout,
): Promise<PackageResult> {
  const { target, store, tools } = ctx;
  // Real run: target, kubectl and (for charts) helm are resolved by readInstallContext.
  if (target === undefined || store === undefined) throw new Error("unreachable: no target outside dry-run");
  const { opened, tgz } = p.member;
  if (opened === undefined) throw new Error("unreachable: a real run extracts every package");
  const { namespace, release, values, base } = p;
  const { addon, digest } = opened;
  const { name, version } = addon.metadata;
  const { acquireLock } = await import("@productive-k3s/pkg-format/lock");
  await prepareCluster(store);
  const lock = await acquireLock(lockFile(store, name), {
    command: `productive-k3s-core addon ${mode} ${name}@${version}`,
    breakLock,
  });
  try {
    const existing = await readRecord(store, name);
    const key = await valuesKey({ create: true });
    const valuesFingerprint = await fingerprintValues(key, opened.dir, addon.spec.chart?.values ?? [], values);
    const decision = decideAction(existing, mode, { version, digest, valuesFingerprint, namespace }, force);
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
    await keepPackage(tgz, incoming);
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
        ...(addon.metadata.category === undefined ? {} : { category: addon.metadata.category }),
        ...(addon.metadata.description === undefined ? {} : { description: addon.metadata.description }),
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

/** Human summary of an install/upgrade result (dependencies first, then the `--tgz` package). */
export function formatInstallResult(r: InstallResult): string {
  const t = terminalLine;
  const target = r.cluster === null ? "unknown (cluster checks skipped)" : `${t(r.cluster.server)} (context ${t(r.cluster.context)})`;
  const blocks: string[] = [];
  if (r.dryRun) {
    const head = [`Target cluster: ${target}`];
    if (r.clusterInfo !== undefined) {
      const { distro, version, architectures } = r.clusterInfo;
      head.push(`Cluster: ${t(distro)} ${t(version)}, node architectures: ${t(architectures.join(", ")) || "none"}`);
    }
    blocks.push(head.join("\n"));
  }
  const checked = r.clusterInfo !== undefined;
  for (const d of r.dependencyPackages ?? []) blocks.push(formatPackage(d, target, checked));
  blocks.push(formatPackage(r, target, checked));
  return blocks.join(r.dependencyPackages === undefined ? "\n" : "\n\n");
}

function formatPackage(r: PackageResult | SkippedPackage, target: string, clusterChecked: boolean): string {
  const t = terminalLine;
  if (r.action === "skip") return `${r.dryRun ? "Would skip" : "Skipped"} ${r.name} ${r.version}: ${t(r.reason)}`;
  const lines: string[] = [];
  if (r.dryRun) {
    lines.push(`Package: ${r.name} ${r.version} (${r.digest})`);
    lines.push(clusterChecked ? "Compatibility: ok" : "Compatibility: requires.core ok (cluster checks skipped)");
    const deps = r.dependencies.map((d) => `${d.name} ${t(d.range)} (${t(d.satisfiedBy ?? "?")})`).join(", ");
    lines.push(`Dependencies: ${deps === "" ? "none" : deps}`);
    if (r.action === "none") {
      lines.push(`Nothing to do: ${r.name} ${r.version} is already installed with this package.`);
    } else {
      lines.push(`Action: ${r.action}${r.previousVersion === undefined ? "" : ` (installed: ${t(r.previousVersion)})`}`);
      lines.push("Would run, in order, from the extracted package root:");
      for (const [i, c] of (r.commands ?? []).entries()) lines.push(`  ${i + 1}. [${c.step}] ${t(formatArgv(c.argv))}`);
    }
    return lines.join("\n");
  }
  if (r.action === "none") return `${r.name} ${r.version} is already installed on ${target}; nothing to do (use --force to reinstall)`;
  lines.push(`${r.name} ${r.version} ${r.action === "upgrade" ? "upgraded" : "installed"} on ${target}`);
  if (r.release !== undefined) lines.push(`  release: ${r.release} (namespace ${r.namespace})`);
  else lines.push(`  namespace: ${r.namespace}`);
  lines.push(`  steps: ${(r.steps ?? []).map((s) => `${s.name} ${s.status}`).join(", ") || "none"}`);
  if (r.runLog !== undefined) lines.push(`  run log: ${t(r.runLog)}`);
  return lines.join("\n");
}
