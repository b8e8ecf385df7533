/**
 * `pk3s stack plan NAME|FILE`: what `stack install` would do, per add-on:
 * install, upgrade or unchanged (decided by Core in one dry run with the
 * stack's values, so a changed value shows as an upgrade), and the add-ons
 * installed on the cluster that the stack does not list ("not in stack";
 * `--prune` would remove those this stack installed).
 */
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { compareText } from "@productive-k3s/pkg-format/text-order";
import type { ClusterTarget } from "../delegate/kubeconfig-target.js";
import type { OpenedStack } from "../stack/opened-stack.js";
import { packageRef, type StackPackage } from "../stack/stack-packages.js";
import type { InstalledState } from "./runtime-status.js";
import { type LockUse, type StackCommandInput, stackThroughCore, withPreparedStack } from "./stack-prepare.js";

export type PlanAction = "install" | "upgrade" | "unchanged";

export interface PlannedAddon {
  name: string;
  version: string;
  catalog: string;
  digest: string;
  /** Listed in the stack, or a dependency of what is. */
  listed: boolean;
  action: PlanAction;
  /** Upgrade: the version installed now. */
  from?: string | undefined;
  /** Core's reason (other version, other package, other values, a failed last run). */
  reason?: string | undefined;
}

export interface NotInStack {
  name: string;
  version: string | undefined;
  status: string | undefined;
  /** The stack whose install put it there, if any. */
  installedBy: string | undefined;
  /** Installed by this stack: `--prune` removes it. */
  prunable: boolean;
}

export interface StackPlan {
  ok: true;
  stack: { name: string; version: string; source: string };
  lock: LockUse;
  target: ClusterTarget;
  addons: PlannedAddon[];
  notInStack: NotInStack[];
}

export function stackInfo(stack: OpenedStack): StackPlan["stack"] {
  return { name: stack.manifest.metadata.name, version: stack.manifest.metadata.version, source: stack.label };
}

/** Installed add-ons the plan does not hold, dependents first (the order `--prune` removes them in). */
export function notInStack(stackName: string, planned: ReadonlySet<string>, states: ReadonlyMap<string, InstalledState>): NotInStack[] {
  const extra = [...states.entries()].filter(([name]) => !planned.has(name));
  return removalOrder(extra).map(([name, s]) => ({
    name,
    version: s.version,
    status: s.status,
    installedBy: s.stack?.name,
    prunable: s.stack?.name === stackName,
  }));
}

/** Records ordered so that each comes before what it depends on (uninstall order); ties by name. */
export function removalOrder<T extends [string, InstalledState]>(records: readonly T[]): T[] {
  const byName = new Map(records.map((r) => [r[0], r]));
  const done = new Set<string>();
  const out: T[] = [];
  const visit = (r: T, path: Set<string>): void => {
    if (done.has(r[0]) || path.has(r[0])) return;
    path.add(r[0]);
    for (const d of r[1].dependencies ?? []) {
      const dep = byName.get(d.name);
      if (dep !== undefined) visit(dep, path);
    }
    done.add(r[0]);
    out.push(r);
  };
  for (const r of [...records].sort((a, b) => compareText(a[0], b[0]))) visit(r, new Set());
  return out.reverse();
}

function plannedAddon(
  p: StackPackage,
  outcome: { action: string; previousVersion?: string | undefined; warnings: string[] },
): PlannedAddon {
  const action: PlanAction = outcome.action === "none" ? "unchanged" : outcome.action === "upgrade" ? "upgrade" : "install";
  return {
    ...packageRef(p),
    action,
    ...(action === "upgrade" ? { from: outcome.previousVersion } : {}),
    ...(action !== "unchanged" && outcome.warnings.length > 0 ? { reason: outcome.warnings.at(-1) } : {}),
  };
}

export async function planStack(input: StackCommandInput): Promise<StackPlan> {
  return withPreparedStack(input, { writeLock: false }, async (prepared) => {
    const { stack, resolved, target } = prepared;
    const base = { stack: stackInfo(stack), lock: prepared.lock, target };
    const { records, run } = await stackThroughCore(prepared, { dryRun: true, timeout: input.timeout });
    const addons = resolved.packages.map((p) => plannedAddon(p, run.outcomes.get(p.entry.name)!));
    const planned = new Set(addons.map((a) => a.name));
    return { ok: true, ...base, addons, notInStack: notInStack(stack.manifest.metadata.name, planned, records) };
  });
}

const ACTION_TEXT: Record<PlanAction, string> = { install: "install", upgrade: "upgrade", unchanged: "unchanged" };

export function planLines(addons: readonly PlannedAddon[]): string[] {
  const width = Math.max(...addons.map((a) => `${a.name} ${a.version}`.length));
  return addons.map((a) => {
    const what = `${a.name} ${a.version}`.padEnd(width);
    const from = a.action === "upgrade" && a.from !== undefined && a.from !== a.version ? ` (from ${a.from})` : "";
    const why = a.reason === undefined ? "" : `: ${a.reason}`;
    return `  ${ACTION_TEXT[a.action].padEnd(10)} ${what}  [${a.catalog}]${a.listed ? "" : " (dependency)"}${from}${why}`;
  });
}

export function notInStackLines(rows: readonly NotInStack[], prune: boolean): string[] {
  return rows.map((r) => {
    const by = r.installedBy === undefined ? "installed on its own" : `installed by stack ${r.installedBy}`;
    const fate = r.prunable ? (prune ? "removed by --prune" : "kept; --prune removes it") : "kept";
    return `  not in stack ${r.name} ${r.version ?? "?"} (${by}; ${fate})`;
  });
}

export function lockLine(lock: LockUse): string | undefined {
  const text: Record<LockUse["state"], string | undefined> = {
    none: undefined,
    used: `lock: ${lock.file} (${lock.digest})`,
    stale: `lock: ${lock.file} is stale (resolved from the catalogs instead; pk3s lock refreshes it)`,
    absent: `lock: none (pk3s lock writes ${lock.file})`,
    written: `lock: wrote ${lock.file} (${lock.digest})`,
    updated: `lock: updated ${lock.file} (${lock.digest})${lock.changes.length === 0 ? "" : `: ${lock.changes.join(", ")}`}`,
  };
  return text[lock.state];
}

export function renderPlan(p: StackPlan, prune = false): string {
  const lines = [`Plan for stack ${p.stack.name} ${p.stack.version} (${p.stack.source}) on ${p.target.server ?? "unknown cluster"}:`];
  const lock = lockLine(p.lock);
  if (lock !== undefined) lines.push(lock);
  lines.push(...planLines(p.addons), ...notInStackLines(p.notInStack, prune));
  const counts = (["install", "upgrade", "unchanged"] as const).map((a) => `${p.addons.filter((x) => x.action === a).length} ${a}`);
  lines.push(`${counts.join(", ")}, ${p.notInStack.length} not in stack`);
  return lines.map(terminalLine).join("\n");
}
