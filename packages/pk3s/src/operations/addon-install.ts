import { log } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { formatArgv } from "@productive-k3s/pkg-format/shell-quote";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { versionSatisfies } from "@productive-k3s/pkg-format/version-range";
import { type DependencyPlan, entryRef } from "../catalog/dependency-graph.js";
import type { ResolvedEntry } from "../catalog/loaded-catalog.js";
import { coreRunArgs } from "../delegate/core-run-flags.js";
import { runRuntime } from "../delegate/delegate.js";
import type { ClusterTarget } from "../delegate/kubeconfig-target.js";
import { type RuntimeCommand, requireRuntime } from "../delegate/runtime-bin.js";
import { checkAddonSpec, resolveAddonPlan } from "./addon-plan.js";
import { announceTarget, checkClusterFlags, clusterFor } from "./cluster-target.js";
import { downloadEntry, type FetchFlags, sessionOptions } from "./fetch-entry.js";
import { type InstalledState, parseListOutput } from "./runtime-status.js";
import { withSession } from "./session.js";

export interface AddonInstallInput extends FetchFlags {
  /** Core's verb for the requested package (dependencies are always installed). Default: install. */
  mode?: "install" | "upgrade" | undefined;
  spec: string;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  instance?: string | undefined;
  values: string[];
  set: string[];
  namespace?: string | undefined;
  timeout?: string | undefined;
  force?: boolean | undefined;
  breakLock?: boolean | undefined;
  /** Forwarded to Core: `--allow-host-changes`, `--no-backup` (backup false). */
  allowHostChanges?: boolean | undefined;
  backup?: boolean | undefined;
  dryRun: boolean;
  json: boolean;
  coreBin?: string | undefined;
  infraBin?: string | undefined;
}

export interface PlannedStep {
  name: string;
  version: string;
  catalog: string;
  digest: string;
  file: string;
  action: "install" | "skip" | "not-run";
  reason?: string | undefined;
  installedVersion?: string | undefined;
  exitCode?: number | undefined;
  output?: unknown;
}

export interface AddonInstallResult {
  ok: boolean;
  mode: "install" | "upgrade";
  dryRun: boolean;
  target: ClusterTarget;
  steps: PlannedStep[];
  exitCode: number;
}

function satisfiesAll(version: string, ranges: string[]): boolean {
  return ranges.every((r) => versionSatisfies(version, r));
}

/**
 * What is installed on the target cluster, from one `addon list --json` (one
 * runtime start for the whole plan, not one per package: installing earlier
 * packages never changes the state of the later names). Real installs only: a
 * dry run leaves the skipping to Core.
 */
export async function installedStates(
  core: RuntimeCommand,
  cluster: string[],
): Promise<{ states: Map<string, InstalledState>; exitCode: number }> {
  const states = new Map<string, InstalledState>();
  const res = await runRuntime(core, ["addon", "list", "--json", ...cluster], { captureStdout: true, captureStderr: true });
  if (res.exitCode !== 0) {
    process.stderr.write(res.stderr);
    return { states, exitCode: res.exitCode };
  }
  for (const [name, state] of parseListOutput(res.stdout)) states.set(name, state);
  return { states, exitCode: 0 };
}

function rangesFor(plan: DependencyPlan, entry: ResolvedEntry): string[] {
  // The requested package is re-installed unless exactly that version is there; dependencies only need to satisfy their ranges.
  if (entry.name === plan.root.name) return [entry.version];
  return (plan.requirements[entry.name] ?? []).map((c) => c.range);
}

export async function installAddon(input: AddonInstallInput): Promise<AddonInstallResult> {
  const mode = input.mode ?? "install";
  checkClusterFlags(input);
  checkAddonSpec(input.spec); // usage errors before any network access
  return withSession(sessionOptions(input), async (session) => {
    const plan = await resolveAddonPlan(session, input.spec, input.includePrerelease);
    log(`Resolved ${plan.order.map(entryRef).join(", ")}`);
    const files: string[] = [];
    const steps: PlannedStep[] = [];
    for (const entry of plan.order) {
      const fetched = await downloadEntry(session, entry, input);
      files.push(fetched.file);
      steps.push({
        name: entry.name,
        version: entry.version,
        catalog: entry.catalog,
        digest: fetched.digest,
        file: fetched.file,
        action: "not-run",
      });
    }

    const resolved = await clusterFor(input);
    if ("exitCode" in resolved) {
      return {
        ok: false,
        mode,
        dryRun: input.dryRun,
        target: { kubeconfig: `(instance ${input.instance})` },
        steps,
        exitCode: resolved.exitCode,
      };
    }
    const target = await announceTarget(resolved.kubeconfig, input);

    const core = requireRuntime("core", input.coreBin);
    const cluster = resolved.args;
    if (input.dryRun) return dryRunInCore(core, cluster, steps, { ...input, mode }, target);

    // Real installs keep one Core process per package: each package's own exit code lands on its step, its
    // output streams as it runs, and pk3s's JSON keeps Core's document per package. The time goes to Helm
    // and the package scripts, not to the one Core start-up per package that the dry run saves.
    const installed = await installedStates(core, cluster);
    if (installed.exitCode !== 0) return { ok: false, mode, dryRun: false, target, steps, exitCode: installed.exitCode };
    if (mode === "upgrade" && !installed.states.has(plan.root.name)) {
      throw new NotFoundError(`cannot upgrade ${plan.root.name}: it is not installed on ${target.server ?? "the target cluster"}`, {
        where: target.kubeconfig,
        hint: `install it with: pk3s addon install ${input.spec}`,
      });
    }
    for (const [i, entry] of plan.order.entries()) {
      const step = steps[i]!;
      const state = installed.states.get(entry.name) ?? { installed: false };
      const isRoot = entry.name === plan.root.name;
      // An upgrade hands the requested package to Core whatever is installed: Core compares package and values.
      const forced = isRoot && (input.force === true || mode === "upgrade");
      if (!forced && state.installed && state.version !== undefined && satisfiesAll(state.version, rangesFor(plan, entry))) {
        step.action = "skip";
        step.installedVersion = state.version;
        step.reason = `${entry.name}@${state.version} is already installed`;
        log(terminalLine(`skipping ${entryRef(entry)}: ${step.reason}`));
        continue;
      }
      const args = [
        "addon",
        isRoot ? mode : "install",
        "--tgz",
        step.file,
        ...cluster,
        ...(isRoot ? rootArgs(input) : []),
        ...coreRunArgs(input),
      ];
      if (input.json) args.push("--json");
      log(`${isRoot && mode === "upgrade" ? "upgrading" : "installing"} ${entryRef(entry)} (${i + 1}/${plan.order.length})`);
      const res = await runRuntime(core, args, { captureStdout: input.json });
      step.action = "install";
      step.exitCode = res.exitCode;
      if (input.json) {
        try {
          step.output = JSON.parse(res.stdout);
        } catch {
          step.output = res.stdout;
        }
      }
      if (res.exitCode !== 0) return { ok: false, mode, dryRun: false, target, steps, exitCode: res.exitCode };
    }
    return { ok: true, mode, dryRun: false, target, steps, exitCode: 0 };
  });
}

/** Core flags for the requested package only. */
function rootArgs(input: AddonInstallInput): string[] {
  const args: string[] = [];
  if (input.namespace !== undefined) args.push("--namespace", input.namespace);
  for (const f of input.values) args.push("-f", f);
  for (const s of input.set) args.push("--set", s);
  if (input.force === true) args.push("--force");
  return args;
}

/** The part of Core's `addon install --json` document pk3s reads (one package's, or a skipped dependency's). */
export interface CorePackageDoc {
  action?: unknown;
  name?: unknown;
  version?: unknown;
  previousVersion?: unknown;
  installedVersion?: unknown;
  reason?: unknown;
  commands?: unknown;
  dependencyPackages?: unknown;
  error?: { message?: unknown };
}

export function parseCoreDoc(stdout: string): CorePackageDoc | undefined {
  try {
    const doc: unknown = JSON.parse(stdout);
    return typeof doc === "object" && doc !== null && !Array.isArray(doc) ? (doc as CorePackageDoc) : undefined;
  } catch {
    return undefined;
  }
}

/** Fill a step from Core's document for its package. */
function applyCoreResult(step: PlannedStep, doc: CorePackageDoc): void {
  step.output = doc;
  if (doc.action === "skip" || doc.action === "none") {
    const installed = doc.action === "skip" ? doc.installedVersion : doc.previousVersion;
    step.action = "skip";
    step.installedVersion = typeof installed === "string" ? installed : step.version;
    step.reason =
      doc.action === "skip" && typeof doc.reason === "string" ? doc.reason : `${step.name}@${step.installedVersion} is already installed`;
    return;
  }
  step.action = "install";
  step.exitCode = 0;
}

/**
 * The dry run: one Core process for the whole plan (the requested package is
 * last in `steps`). Core decides what it would skip; its document (and, on
 * failure, the package its error names) is mapped back onto the steps.
 */
async function dryRunInCore(
  core: RuntimeCommand,
  cluster: string[],
  steps: PlannedStep[],
  input: AddonInstallInput & { mode: "install" | "upgrade" },
  target: ClusterTarget,
): Promise<AddonInstallResult> {
  const mode = input.mode;
  const root = steps.at(-1);
  if (root === undefined) throw new Error("unreachable: a plan always holds the requested package");
  const deps = steps.slice(0, -1);
  const args = ["addon", mode, "--tgz", root.file, ...deps.flatMap((d) => ["--dependency-tgz", d.file])];
  args.push(...cluster, ...rootArgs(input), ...coreRunArgs(input), "--dry-run", "--json");
  log(`dry run: checking ${steps.length} package${steps.length === 1 ? "" : "s"} in one ${core.binName} run`);
  const res = await runRuntime(core, args, { captureStdout: true });
  const doc = parseCoreDoc(res.stdout);
  if (res.exitCode !== 0) {
    const message = typeof doc?.error?.message === "string" ? doc.error.message : "";
    // In a run of several packages Core's error starts with the package it is about.
    const failed = steps.length === 1 ? root : steps.find((s) => message.startsWith(`${s.name} ${s.version}`));
    if (failed !== undefined) {
      failed.action = "install";
      failed.exitCode = res.exitCode;
      failed.output = doc ?? res.stdout;
    }
    return { ok: false, mode, dryRun: true, target, steps, exitCode: res.exitCode };
  }
  if (doc === undefined)
    throw new StepFailedError(`${core.binName} addon ${mode} --dry-run --json did not print JSON`, { where: core.path });
  const nested = Array.isArray(doc.dependencyPackages) ? (doc.dependencyPackages as CorePackageDoc[]) : [];
  for (const step of deps) {
    const mine = nested.find((d) => d.name === step.name && d.version === step.version);
    if (mine === undefined)
      throw new StepFailedError(`${core.binName} reported nothing for ${step.name}@${step.version}`, { where: core.path });
    applyCoreResult(step, mine);
  }
  const { dependencyPackages: _nested, ...own } = doc;
  applyCoreResult(root, own);
  return { ok: true, mode, dryRun: true, target, steps, exitCode: 0 };
}

export function renderInstall(r: AddonInstallResult): string {
  const lines = [`${r.dryRun ? "Plan (dry run)" : "Plan"} for ${r.target.server ?? "unknown cluster"}:`];
  r.steps.forEach((s, i) => {
    const what =
      s.action === "skip"
        ? `skip (installed ${s.installedVersion})${r.dryRun && s.reason !== undefined ? `: ${s.reason}` : ""}`
        : s.action === "install"
          ? `${i === r.steps.length - 1 ? r.mode : "install"}${s.exitCode === 0 ? "" : ` FAILED (exit ${s.exitCode})`}`
          : "not run";
    lines.push(`  ${i + 1}. ${s.name}@${s.version} [${s.catalog}] ${s.digest.slice(0, 19)}… ${what}`);
    if (r.dryRun && s.action === "install") for (const c of plannedCommands(s.output)) lines.push(`       would run [${c.step}] ${c.argv}`);
  });
  // Core's answers echo package data (reasons, chart names, argv): every line is made terminal-safe.
  return lines.map(terminalLine).join("\n");
}

/** The commands of Core's dry-run document for one package, shell-quoted. */
function plannedCommands(output: unknown): { step: string; argv: string }[] {
  const commands = typeof output === "object" && output !== null ? (output as { commands?: unknown }).commands : undefined;
  if (!Array.isArray(commands)) return [];
  return commands.flatMap((c: { step?: unknown; argv?: unknown }) =>
    typeof c.step === "string" && Array.isArray(c.argv) ? [{ step: c.step, argv: formatArgv(c.argv.map(String)) }] : [],
  );
}
