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
 *
 * With `--stack NAME` (pk3s's `stack install`) every package of the run is a
 * member of the stack: each is installed at exactly the package given
 * (install, upgrade or nothing, decided like the `--tgz` package; never
 * skipped as a satisfied dependency), and its record says which stack (and
 * lock file) installed it. `--package-options` gives each package its own
 * values, `--set` lines and namespace.
 *
 * This module holds the run as a whole; its parts: install-context.ts (what
 * the run reads once), install-plan.ts (the checks and the dry run),
 * install-decision.ts (install, upgrade, nothing or skip), install-run.ts (a
 * real run, in addon-run.ts's lifecycle) and install-result.ts (the result).
 */
import { rmSync } from "node:fs";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { log, warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, UsageError } from "@productive-k3s/pkg-format/errors";
import { onInterrupt } from "@productive-k3s/pkg-format/interrupts";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import { type Answers, givenAnswers, splitSets } from "../contract/answers.js";
import { parseTimeout, type Timeout } from "../duration.js";
import { type InstalledVersion, parseAssumed } from "../lifecycle/dependencies.js";
import { impactOf, settleHostChanges } from "../lifecycle/impact.js";
import type { UserValues } from "../lifecycle/plan.js";
import { resolveUserValues } from "../lifecycle/values.js";
import { readAddonPackage } from "../package-access.js";
import type { StackRef } from "../records/schema.js";
import { isInteractive } from "../terminal.js";
import { type InstallContext, readInstallContext, throwContextFailure } from "./install-context.js";
import { type InstallMode, isSkipped, requirementsOf, skipFor } from "./install-decision.js";
import { type Checked, checkMember, type Member, planMember } from "./install-plan.js";
import type { InstallResult, PackageResult, SkippedPackage } from "./install-result.js";
import { type RunExtras, runInstall } from "./install-run.js";
import { type PackageOptions, readPackageOptions } from "./package-options.js";

export interface InstallOptions {
  tgz: string;
  /** `--dependency-tgz`: installed first, in this order, in the same run. Values, namespace and force are the `--tgz` package's only. */
  dependencyTgzs?: string[] | undefined;
  mode: InstallMode;
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
  /** `--package-options`: a JSON file of per-package values, --set lines and namespace, by add-on name. */
  packageOptions?: string | undefined;
  /** `--stack` / `--stack-lock-digest`: every package of the run belongs to this stack (see the module header). */
  stack?: { name: string; lockDigest?: string | undefined } | undefined;
  /** `--allow-host-changes`: add-ons whose spec.impact.host is true may change this machine. */
  allowHostChanges?: boolean | undefined;
  /** `--no-backup`: do not back the installed version up before an upgrade or rollback. */
  noBackup?: boolean | undefined;
  /** Answers under the user's (rollback: the revision's recorded ones). */
  baseAnswers?: Answers | undefined;
  /** Rollback: the revision whose values the run must reproduce. */
  expect?: RunExtras["expect"];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function checkStack(stack: InstallOptions["stack"]): StackRef | undefined {
  if (stack === undefined) return undefined;
  assertValidName("package", stack.name, "--stack");
  if (stack.lockDigest !== undefined && !DIGEST.test(stack.lockDigest)) {
    throw new UsageError(`invalid --stack-lock-digest ${quoteForTerminal(stack.lockDigest)}: expected sha256:<64 lowercase hex digits>`);
  }
  return stack.lockDigest === undefined ? { name: stack.name } : { name: stack.name, lockDigest: stack.lockDigest };
}

async function packageFile(file: string, flag: string): Promise<string> {
  const abs = resolve(file);
  const st = await stat(abs).catch(() => undefined);
  if (st === undefined || !st.isFile())
    throw new NotFoundError(`package ${file} not found`, { where: abs, hint: `check the ${flag} path` });
  return abs;
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
  const checked = await resolveUserValues(options.values ?? [], options.sets ?? []);
  const sets = splitSets(checked.sets);
  // `--set configure.<KEY>=...` answers configure; Helm gets the other --set values.
  const values: UserValues = { files: checked.files, sets: sets.helm };
  const answers = await givenAnswers(checked.files, sets.configure, process.env, options.baseAnswers);
  const stack = checkStack(options.stack);
  const perPackage =
    options.packageOptions === undefined
      ? new Map<string, PackageOptions>()
      : await readPackageOptions(options.packageOptions, resolveUserValues);
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
    // Every package is verified before anything is checked or run; a dry run extracts only what it reads files from
    // (values to fingerprint, a chart to render).
    for (const f of files) {
      members.push({
        ...(await readAddonPackage(f.tgz, { strict: options.strict === true, extract: !dryRun, render: dryRun })),
        root: f.root,
      });
    }
    return await installMembers(members, await reading, options, timeout, values, answers, assumed, { perPackage, stack });
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

async function installMembers(
  members: readonly Member[],
  ctx: InstallContext,
  options: InstallOptions,
  timeout: Timeout,
  values: UserValues,
  answers: Answers,
  assumed: { name: string; version: string }[],
  run: { perPackage: ReadonlyMap<string, PackageOptions>; stack: StackRef | undefined },
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
  checkPackageOptions(run.perPackage, members, options);
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
    // A stack's packages are all installed at exactly the package given; a plain dependency is skipped when satisfied.
    const skip = member.root || run.stack !== undefined ? undefined : skipFor(member, ctx, requirements.get(name) ?? []);
    const own = run.perPackage.get(name);
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
        own?.values ?? (member.root ? values : { files: [], sets: [] }),
        own?.namespace ?? (member.root ? options.namespace : undefined),
        member.root ? skippedWarning : undefined,
      ),
    );
    planned.push(checked);
    installed.push({ name, version, status: "assumed" });
  }

  // Shown before anything runs; changing this machine needs consent (exit 4 without it).
  const running = planned.filter((p): p is Checked => !isSkipped(p));
  const hostChanges = await settleHostChanges(
    running.map((p) => ({ ...p.member.addon.metadata, impact: impactOf(p.member.addon) })),
    options.allowHostChanges === true,
    dryRun,
  );
  const interactive = isInteractive();

  const results: (PackageResult | SkippedPackage)[] = [];
  for (const p of planned) {
    if (isSkipped(p)) {
      results.push(p);
      continue;
    }
    const { name, version } = p.member.addon.metadata;
    const mode = p.member.root ? options.mode : "install";
    const force = p.member.root && options.force === true;
    const extras: RunExtras = {
      given: p.member.root ? answers : {},
      hostChanges,
      interactive,
      backup: options.noBackup !== true,
      expect: p.member.root ? options.expect : undefined,
    };
    results.push(
      await naming(batch ? `${name} ${version}` : undefined, () =>
        dryRun
          ? planMember(p, ctx, mode, force, timeout, extras)
          : runInstall(p, ctx, mode, force, options.breakLock === true, timeout, { ...extras, stack: run.stack }),
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

/**
 * `--package-options` may only name packages of this run, and the `--tgz` package's options come either from
 * -f/--set/-n or from the file, never both (which would win is not obvious).
 */
function checkPackageOptions(perPackage: ReadonlyMap<string, PackageOptions>, members: readonly Member[], options: InstallOptions): void {
  const names = new Set(members.map((m) => m.addon.metadata.name));
  for (const name of perPackage.keys()) {
    if (!names.has(name)) {
      throw new UsageError(`--package-options names ${name}, which is not a package of this run`, {
        hint: `the packages are: ${[...names].join(", ")}`,
      });
    }
  }
  const root = members.find((m) => m.root)?.addon.metadata.name;
  const flags = (options.values ?? []).length > 0 || (options.sets ?? []).length > 0 || options.namespace !== undefined;
  if (root !== undefined && flags && perPackage.has(root)) {
    throw new UsageError(`${root} has options both in --package-options and in -f/--set/-n`, { hint: "give them in one place" });
  }
}
