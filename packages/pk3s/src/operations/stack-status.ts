/**
 * `pk3s stack status NAME|FILE`: the cluster's install records (Core's
 * `addon list --json`) against the stack, without resolving or downloading
 * anything: each add-on the stack wants (the lock's packages when there is a
 * lock, else the add-ons it lists, with their version ranges) as ok,
 * missing, other version or not deployed; and what else is installed. A
 * quick look; `stack diff` is the full comparison (digests and values).
 */
import { warn } from "@productive-k3s/pkg-format/cli";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { versionSatisfies } from "@productive-k3s/pkg-format/version-range";
import type { ClusterTarget } from "../delegate/kubeconfig-target.js";
import { installRecords } from "../stack/core-stack-run.js";
import { openStack } from "../stack/opened-stack.js";
import { describeProblems, lockFileFor, lockProblems, readLock } from "../stack/stack-lock.js";
import type { FetchFlags } from "./fetch-entry.js";
import { withSession } from "./session.js";
import { type NotInStack, notInStack, notInStackLines, stackInfo } from "./stack-plan.js";
import { checkClusterFlags, type StackClusterFlags, stackTarget } from "./stack-target.js";

export type AddonState = "ok" | "missing" | "other version" | "not deployed";

export interface AddonStatusRow {
  name: string;
  /** The locked version, or the stack's range ("*" when it names none). */
  wanted: string;
  listed: boolean;
  installed: string | undefined;
  status: string | undefined;
  installedBy: string | undefined;
  state: AddonState;
}

export interface StackStatusResult {
  ok: true;
  stack: { name: string; version: string; source: string };
  /** The lock the wanted versions come from, if any. */
  lock: string | undefined;
  target: ClusterTarget;
  addons: AddonStatusRow[];
  notInStack: NotInStack[];
  /** Every add-on deployed as wanted. */
  complete: boolean;
}

export interface StackStatusInput extends FetchFlags, StackClusterFlags {
  ref: string;
}

export async function stackStatus(input: StackStatusInput): Promise<StackStatusResult> {
  checkClusterFlags(input);
  return withSession({ offline: input.offline }, async (session) => {
    const stack = await openStack(input.ref, session, input);
    try {
      const lockFile = stack.file === undefined ? undefined : lockFileFor(stack.file);
      const lock = lockFile === undefined ? undefined : await readLock(lockFile);
      if (lock !== undefined) {
        const problems = lockProblems(lock.lock, stack.manifest);
        if (problems.length > 0)
          warn(`the lock no longer matches the stack (status compares with the lock):\n${describeProblems(problems, lock.file)}`);
      }
      const listed = new Map(stack.manifest.spec.addons.map((a) => [a.name, a]));
      const wanted: { name: string; wanted: string; exact: boolean }[] =
        lock === undefined
          ? stack.manifest.spec.addons.map((a) => ({ name: a.name, wanted: a.version ?? "*", exact: false }))
          : lock.lock.packages.map((p) => ({ name: p.name, wanted: p.version, exact: true }));
      const target = await stackTarget(input);
      const records = await installRecords(target.core, target.cluster);
      const addons = wanted.map((w): AddonStatusRow => {
        const s = records.get(w.name);
        const fits = s?.version !== undefined && (w.exact ? s.version === w.wanted : versionSatisfies(s.version, w.wanted));
        const state: AddonState = s === undefined ? "missing" : s.status !== "deployed" ? "not deployed" : fits ? "ok" : "other version";
        return {
          name: w.name,
          wanted: w.wanted,
          listed: listed.has(w.name),
          installed: s?.version,
          status: s?.status,
          installedBy: s?.stack?.name,
          state,
        };
      });
      const rest = notInStack(stack.manifest.metadata.name, new Set(wanted.map((w) => w.name)), records);
      return {
        ok: true as const,
        stack: stackInfo(stack),
        lock: lock?.file,
        target: target.target,
        addons,
        notInStack: rest,
        complete: addons.every((a) => a.state === "ok"),
      };
    } finally {
      await stack.cleanup();
    }
  });
}

export function renderStackStatus(r: StackStatusResult): string {
  const lines = [
    `Stack ${r.stack.name} ${r.stack.version} (${r.stack.source}) on ${r.target.server ?? "unknown cluster"}${r.lock === undefined ? "" : `, wanted versions from ${r.lock}`}:`,
  ];
  const width = Math.max(...r.addons.map((a) => a.name.length));
  for (const a of r.addons) {
    const have = a.installed === undefined ? "not installed" : `${a.installed} ${a.status ?? ""}`.trim();
    const by =
      a.installed === undefined ? "" : a.installedBy === undefined ? ", installed on its own" : `, installed by stack ${a.installedBy}`;
    lines.push(
      `  ${a.state.padEnd(13)} ${a.name.padEnd(width)}  wanted ${a.wanted}, cluster ${have}${by}${a.listed ? "" : " (dependency)"}`,
    );
  }
  lines.push(...notInStackLines(r.notInStack, false));
  const ok = r.addons.filter((a) => a.state === "ok").length;
  lines.push(
    `${ok}/${r.addons.length} as wanted${r.complete ? "" : ` (pk3s stack plan ${r.stack.source} shows what install would change)`}`,
  );
  return lines.map(terminalLine).join("\n");
}
