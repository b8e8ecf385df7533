/**
 * `pk3s stack install NAME|FILE`: every package of the stack (dependencies
 * first) through Core in one run (stack/core-stack-run.ts): one cluster
 * probe, each add-on installed, upgraded or left as it is, its record naming
 * the stack and the lock. The first failure stops the run; the summary says
 * what ran, what failed and what was not attempted, read from the install
 * records before and after (Core's error names the failing package). With
 * `--prune`, then, the add-ons this stack installed that it no longer lists
 * are uninstalled, dependents first.
 */
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { ClusterTarget } from "../delegate/kubeconfig-target.js";
import type { CoreStackRun } from "../stack/core-stack-run.js";
import { packageRef, type StackPackage } from "../stack/stack-packages.js";
import { installedStates } from "./addon-install.js";
import type { InstalledState } from "./runtime-status.js";
import { lockLine, type NotInStack, notInStack, notInStackLines, stackInfo } from "./stack-plan.js";
import { type LockUse, type PreparedStack, type StackCommandInput, stackThroughCore, withPreparedStack } from "./stack-prepare.js";
import { type RemovalStep, removeInOrder } from "./stack-uninstall.js";

export type InstallOutcome = "installed" | "upgraded" | "unchanged" | "failed" | "not attempted";

export interface InstalledAddon {
  name: string;
  version: string;
  catalog: string;
  digest: string;
  listed: boolean;
  outcome: InstallOutcome;
  /** Upgraded: the version before. */
  from?: string | undefined;
}

export interface StackInstallResult {
  ok: boolean;
  stack: { name: string; version: string; source: string };
  lock: LockUse;
  target: ClusterTarget;
  addons: InstalledAddon[];
  notInStack: NotInStack[];
  pruned: RemovalStep[];
  /** Core's error when the run failed. */
  error?: string | undefined;
  exitCode: number;
}

export interface StackInstallInput extends StackCommandInput {
  prune?: boolean | undefined;
}

function row(p: StackPackage, outcome: InstallOutcome, from?: string): InstalledAddon {
  return {
    ...packageRef(p),
    outcome,
    ...(from === undefined ? {} : { from }),
  };
}

/** A record's identity for "did a run write it": every run gives it a new run log. */
const runOf = (s: InstalledState | undefined): string | undefined =>
  s === undefined ? undefined : `${s.runLog}|${s.updatedAt}|${s.status}`;

/**
 * After a failed run: the package Core named failed; before it, a package whose record a run rewrote ran (installed
 * or upgraded) and the others were left as they were; after it, nothing was attempted. When no record changed at
 * all, Core stopped before running anything (its checks cover every package first): all but the failed one are "not
 * attempted".
 */
function outcomesAfterFailure(
  packages: readonly StackPackage[],
  failed: string | undefined,
  before: ReadonlyMap<string, InstalledState>,
  after: ReadonlyMap<string, InstalledState>,
): InstalledAddon[] {
  const changed = (name: string): boolean => runOf(before.get(name)) !== runOf(after.get(name));
  // Core checks every package before running any: a record written by this run (the failed package's included)
  // means the checks passed and the packages before the failed one were each installed, upgraded or left alone.
  const anyRan = packages.some((p) => changed(p.entry.name));
  let reached = false;
  return packages.map((p) => {
    const name = p.entry.name;
    if (name === failed) {
      reached = true;
      return row(p, "failed");
    }
    if (reached || failed === undefined || !anyRan) return row(p, changed(name) ? ranOutcome(p, before) : "not attempted");
    return changed(name) ? row(p, ranOutcome(p, before), before.get(name)?.version) : row(p, "unchanged");
  });
}

function ranOutcome(p: StackPackage, before: ReadonlyMap<string, InstalledState>): InstallOutcome {
  return before.get(p.entry.name)?.installed === true ? "upgraded" : "installed";
}

function outcomesOf(packages: readonly StackPackage[], run: CoreStackRun): InstalledAddon[] {
  return packages.map((p) => {
    const o = run.outcomes.get(p.entry.name)!;
    if (o.action === "none") return row(p, "unchanged");
    return o.action === "upgrade" ? row(p, "upgraded", o.previousVersion) : row(p, "installed");
  });
}

async function prune(prepared: PreparedStack, candidates: readonly NotInStack[], input: StackInstallInput): Promise<RemovalStep[]> {
  const steps: RemovalStep[] = candidates.map((c) => ({ name: c.name, version: c.version, listed: false, outcome: "not attempted" }));
  const stackName = prepared.stack.manifest.metadata.name;
  await removeInOrder(prepared.core, prepared.cluster, steps, input, () => `pruned: installed by stack ${stackName}, no longer in it`);
  return steps;
}

export async function installStack(input: StackInstallInput): Promise<StackInstallResult> {
  return withPreparedStack(input, { writeLock: true }, async (prepared) => {
    const { stack, resolved, core, cluster, target } = prepared;
    const base = { stack: stackInfo(stack), lock: prepared.lock, target };
    const { records: before, run } = await stackThroughCore(prepared, {
      dryRun: false,
      timeout: input.timeout,
      breakLock: input.breakLock,
      allowHostChanges: input.allowHostChanges,
      backup: input.backup,
    });
    const planned = new Set(resolved.packages.map((p) => p.entry.name));
    if (run.exitCode !== 0) {
      const after = await installedStates(core, cluster);
      const addons = outcomesAfterFailure(resolved.packages, run.failed, before, after.states);
      const rest = notInStack(stack.manifest.metadata.name, planned, before);
      return { ok: false, ...base, addons, notInStack: rest, pruned: [], error: run.error, exitCode: run.exitCode };
    }
    const addons = outcomesOf(resolved.packages, run);
    const rest = notInStack(stack.manifest.metadata.name, planned, before);
    const pruned =
      input.prune === true
        ? await prune(
            prepared,
            rest.filter((r) => r.prunable),
            input,
          )
        : [];
    const failedPrune = pruned.find((p) => p.outcome === "failed");
    return {
      ok: failedPrune === undefined,
      ...base,
      addons,
      notInStack: rest,
      pruned,
      exitCode: failedPrune?.exitCode ?? 0,
    };
  });
}

export function renderStackInstall(r: StackInstallResult): string {
  const lines = [`Stack ${r.stack.name} ${r.stack.version} (${r.stack.source}) on ${r.target.server ?? "unknown cluster"}:`];
  const lock = lockLine(r.lock);
  if (lock !== undefined) lines.push(lock);
  const width = Math.max(...r.addons.map((a) => `${a.name} ${a.version}`.length));
  for (const a of r.addons) {
    const from = a.outcome === "upgraded" && a.from !== undefined && a.from !== a.version ? ` (from ${a.from})` : "";
    lines.push(
      `  ${a.outcome.padEnd(13)} ${`${a.name} ${a.version}`.padEnd(width)}  [${a.catalog}]${a.listed ? "" : " (dependency)"}${from}`,
    );
  }
  for (const p of r.pruned)
    lines.push(`  ${p.outcome === "removed" ? "pruned" : `prune ${p.outcome}`} ${p.name} ${p.version ?? ""}`.trimEnd());
  const prunedNames = new Set(r.pruned.map((p) => p.name));
  lines.push(
    ...notInStackLines(
      r.notInStack.filter((n) => !prunedNames.has(n.name)),
      false,
    ),
  );
  const by = (o: InstallOutcome) => r.addons.filter((a) => a.outcome === o).map((a) => a.name);
  const ran = [...by("installed"), ...by("upgraded")];
  if (r.ok) {
    lines.push(
      `${ran.length} installed or upgraded, ${by("unchanged").length} unchanged${r.pruned.length > 0 ? `, ${r.pruned.length} pruned` : ""}`,
    );
  } else {
    lines.push(`ran: ${ran.join(", ") || "nothing"}${by("unchanged").length > 0 ? ` (unchanged: ${by("unchanged").join(", ")})` : ""}`);
    lines.push(
      `failed: ${[...by("failed"), ...r.pruned.filter((p) => p.outcome === "failed").map((p) => p.name)].join(", ") || "before any package ran"}`,
    );
    lines.push(`not attempted: ${by("not attempted").join(", ") || "nothing"}`);
  }
  return lines.map(terminalLine).join("\n");
}
