/**
 * `pk3s addon install`: resolve the dependency graph from the catalogs,
 * download and verify every package first, then, in topological order, ask
 * Core whether each is already installed at a satisfying version and install
 * the rest with `addon install --tgz <file>`. Core's exit code is returned
 * verbatim; the first failure stops the run.
 */
import { join } from "node:path";
import { writeFileAtomic } from "@productive-k3s/pkg-format/atomic";
import { log, warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, StepFailedError, UsageError } from "@productive-k3s/pkg-format/errors";
import { cacheDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import semver from "semver";
import type { ResolvedEntry } from "../catalog/catalog-set.js";
import { type DependencyPlan, entryRef, resolveDependencyPlan } from "../catalog/dependency-graph.js";
import { isSemver, parseSpec } from "../catalog/resolve.js";
import { runRuntime } from "../delegate/delegate.js";
import { type ClusterTarget, describeTarget, formatTarget } from "../delegate/kubeconfig-target.js";
import { type RuntimeCommand, requireRuntime } from "../delegate/runtime-bin.js";
import { downloadEntry, type FetchFlags } from "./fetch-entry.js";
import { type InstalledState, parseListOutput } from "./runtime-status.js";
import { withSession } from "./session.js";

export interface AddonInstallInput extends FetchFlags {
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
  dryRun: boolean;
  target: ClusterTarget;
  steps: PlannedStep[];
  exitCode: number;
}

/** `profile outputs --instance i --json` → the kubeconfig path Infra recorded. */
export async function kubeconfigFromInstance(
  instance: string,
  infraBin: string | undefined,
): Promise<{ kubeconfig: string } | { exitCode: number }> {
  const infra = requireRuntime("infra", infraBin);
  const res = await runRuntime(infra, ["profile", "outputs", "--instance", instance, "--json"], { captureStdout: true });
  if (res.exitCode !== 0) return { exitCode: res.exitCode };
  let doc: unknown;
  try {
    doc = JSON.parse(res.stdout);
  } catch {
    throw new StepFailedError(`${infra.binName} profile outputs --instance ${instance} --json did not print JSON`, { where: infra.path });
  }
  const outputs =
    (doc as { outputs?: Record<string, unknown> } | null)?.outputs ??
    (doc as { result?: { outputs?: Record<string, unknown> } } | null)?.result?.outputs;
  const raw = outputs?.kubeconfig;
  const value =
    typeof raw === "string"
      ? raw
      : typeof raw === "object" && raw !== null && typeof (raw as { value?: unknown }).value === "string"
        ? (raw as { value: string }).value
        : undefined;
  if (value === undefined || value === "") {
    throw new NotFoundError(`instance "${instance}" has no kubeconfig output`, {
      hint: `check it with: ${infra.binName} profile status --instance ${instance}; the profile must output "kubeconfig"`,
    });
  }
  if (/^\*+$/.test(value)) {
    throw new StepFailedError(`instance "${instance}": its kubeconfig output is marked sensitive and was masked`, {
      hint: "make the profile output the kubeconfig's path (not its content), or pass --kubeconfig yourself",
    });
  }
  if (value.includes("\n")) {
    // The output is the kubeconfig itself: hand Core a private copy.
    const dir = await ensurePrivateDir(join(cacheDir(), "kubeconfigs"));
    const file = join(dir, `${instance}.yaml`);
    await writeFileAtomic(file, value, { mode: 0o600 });
    return { kubeconfig: file };
  }
  return { kubeconfig: value };
}

function clusterArgs(kubeconfig: string | undefined, context: string | undefined): string[] {
  return [...(kubeconfig === undefined ? [] : ["--kubeconfig", kubeconfig]), ...(context === undefined ? [] : ["--context", context])];
}

function satisfiesAll(version: string, ranges: string[]): boolean {
  return ranges.every(
    (r) =>
      r === version ||
      r === "*" ||
      (isSemver(version) && semver.validRange(r) !== null && semver.satisfies(version, r, { includePrerelease: true })),
  );
}

/**
 * What is installed on the target cluster, from one `addon list --json` (one
 * runtime start for the whole plan, not one per package: installing earlier
 * packages never changes the state of the later names). A dry run that cannot
 * read the cluster (no kubeconfig, say) warns and assumes nothing is installed,
 * as Core's own dry run does.
 */
async function installedStates(
  core: RuntimeCommand,
  cluster: string[],
  dryRun: boolean,
): Promise<{ states: Map<string, InstalledState>; exitCode: number }> {
  const states = new Map<string, InstalledState>();
  const res = await runRuntime(core, ["addon", "list", "--json", ...cluster], { captureStdout: true, captureStderr: true });
  if (res.exitCode !== 0) {
    if (dryRun) {
      const why = res.stderr.split("\n").find((l) => l.startsWith("error:")) ?? `exit ${res.exitCode}`;
      warn(`cannot read what is installed on the cluster (${why.replace(/^error: /, "")}); the dry run assumes nothing is`);
      return { states, exitCode: 0 };
    }
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
  if (input.instance !== undefined && input.kubeconfig !== undefined) {
    throw new UsageError("--instance and --kubeconfig both name a cluster; pass only one");
  }
  if (input.instance !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(input.instance)) {
    throw new UsageError(`invalid instance name "${input.instance}"`, { hint: "letters, digits, '.', '_' and '-'" });
  }
  parseSpec(input.spec); // usage errors before any network access
  return withSession({ offline: input.offline }, async (session) => {
    const catalogs = await session.catalogsReaching([parseSpec(input.spec).name]);
    const plan = resolveDependencyPlan(catalogs, input.spec, { includePrerelease: input.includePrerelease });
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

    let kubeconfig = input.kubeconfig;
    if (input.instance !== undefined) {
      const fromInstance = await kubeconfigFromInstance(input.instance, input.infraBin);
      if ("exitCode" in fromInstance) {
        return {
          ok: false,
          dryRun: input.dryRun,
          target: { kubeconfig: `(instance ${input.instance})` },
          steps,
          exitCode: fromInstance.exitCode,
        };
      }
      kubeconfig = fromInstance.kubeconfig;
    }
    const target = await describeTarget(kubeconfig, input.context);
    log(formatTarget(target) + (input.instance === undefined ? "" : ` from instance ${input.instance}`));

    const core = requireRuntime("core", input.coreBin);
    const cluster = clusterArgs(kubeconfig, input.context);
    const done: ResolvedEntry[] = [];
    const installed = await installedStates(core, cluster, input.dryRun);
    if (installed.exitCode !== 0) return { ok: false, dryRun: input.dryRun, target, steps, exitCode: installed.exitCode };
    for (const [i, entry] of plan.order.entries()) {
      const step = steps[i]!;
      const state = installed.states.get(entry.name) ?? { installed: false };
      const forced = input.force === true && entry.name === plan.root.name;
      if (!forced && state.installed && state.version !== undefined && satisfiesAll(state.version, rangesFor(plan, entry))) {
        step.action = "skip";
        step.installedVersion = state.version;
        step.reason = `${entry.name}@${state.version} is already installed`;
        log(`${input.dryRun ? "would skip" : "skipping"} ${entryRef(entry)}: ${step.reason}`);
        done.push(entry);
        continue;
      }
      const isRoot = entry.name === plan.root.name;
      const args = ["addon", "install", "--tgz", step.file, ...cluster];
      if (isRoot) {
        if (input.namespace !== undefined) args.push("--namespace", input.namespace);
        for (const f of input.values) args.push("-f", f);
        for (const s of input.set) args.push("--set", s);
        if (input.force === true) args.push("--force");
      }
      if (input.timeout !== undefined) args.push("--timeout", input.timeout);
      if (input.breakLock === true) args.push("--break-lock");
      if (input.dryRun) {
        args.push("--dry-run");
        for (const d of done) args.push("--assume-installed", entryRef(d));
      }
      if (input.json) args.push("--json");
      log(`${input.dryRun ? "dry run: installing" : "installing"} ${entryRef(entry)} (${i + 1}/${plan.order.length})`);
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
      if (res.exitCode !== 0) return { ok: false, dryRun: input.dryRun, target, steps, exitCode: res.exitCode };
      done.push(entry);
    }
    return { ok: true, dryRun: input.dryRun, target, steps, exitCode: 0 };
  });
}

export function renderInstall(r: AddonInstallResult): string {
  const lines = [`${r.dryRun ? "Plan (dry run)" : "Plan"} for ${r.target.server ?? "unknown cluster"}:`];
  r.steps.forEach((s, i) => {
    const what =
      s.action === "skip"
        ? `skip (installed ${s.installedVersion})`
        : s.action === "install"
          ? `install${s.exitCode === 0 ? "" : ` FAILED (exit ${s.exitCode})`}`
          : "not run";
    lines.push(`  ${i + 1}. ${s.name}@${s.version} [${s.catalog}] ${s.digest.slice(0, 19)}… ${what}`);
  });
  return lines.join("\n");
}
