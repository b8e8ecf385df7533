/**
 * `pk3s stack uninstall NAME|FILE`: remove the stack's add-ons from the
 * cluster, dependents before what they depend on (the order comes from the
 * install records' dependencies, so nothing is resolved or downloaded): every
 * add-on the stack lists, and every other add-on whose record says this stack
 * installed it (its dependencies). A dependency installed on its own or by
 * another stack is kept. One `productive-k3s-core addon uninstall` per add-on;
 * the first failure stops, and the summary says what was removed, what failed
 * and what was not attempted.
 */

import { log } from "@productive-k3s/pkg-format/cli";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { type CoreRunFlags, coreRunArgs } from "../delegate/core-run-flags.js";
import { runRuntime } from "../delegate/delegate.js";
import type { ClusterTarget } from "../delegate/kubeconfig-target.js";
import type { RuntimeCommand } from "../delegate/runtime-bin.js";
import { installRecords } from "../stack/core-stack-run.js";
import { openStack } from "../stack/opened-stack.js";
import type { FetchFlags } from "./fetch-entry.js";
import { withSession } from "./session.js";
import { removalOrder, stackInfo } from "./stack-plan.js";
import { checkClusterFlags, type StackClusterFlags, stackTarget } from "./stack-target.js";

export interface StackUninstallInput extends FetchFlags, StackClusterFlags, CoreRunFlags {
  ref: string;
  json: boolean;
}

export interface RemovalStep {
  name: string;
  version: string | undefined;
  listed: boolean;
  outcome: "removed" | "failed" | "not attempted";
  exitCode?: number | undefined;
}

export interface StackUninstallResult {
  ok: boolean;
  stack: { name: string; version: string; source: string };
  target: ClusterTarget;
  steps: RemovalStep[];
  /** Listed add-ons that were not installed. */
  absent: string[];
  /** Installed dependencies kept (installed on their own or by another stack). */
  kept: string[];
  exitCode: number;
}

/**
 * `addon uninstall` for each step in order (one Core run each: Core has no batch uninstall); the first failure
 * stops, leaving the rest "not attempted". Each step's outcome and exit code are filled in.
 */
export async function removeInOrder(
  core: RuntimeCommand,
  cluster: readonly string[],
  steps: RemovalStep[],
  options: CoreRunFlags & { json: boolean },
  why: (step: RemovalStep) => string,
): Promise<void> {
  for (const step of steps) {
    log(`removing ${step.name} ${step.version ?? ""} (${why(step)})`);
    const args = ["addon", "uninstall", step.name, ...cluster, ...coreRunArgs(options)];
    // Core's own report of each removal goes to stderr with its logs: stdout is pk3s's summary (or its JSON).
    const res = await runRuntime(core, args, { captureStdout: true });
    if (!options.json) process.stderr.write(res.stdout);
    step.exitCode = res.exitCode;
    step.outcome = res.exitCode === 0 ? "removed" : "failed";
    if (res.exitCode !== 0) return;
  }
}

export async function uninstallStack(input: StackUninstallInput): Promise<StackUninstallResult> {
  checkClusterFlags(input);
  return withSession({ offline: input.offline }, async (session) => {
    const stack = await openStack(input.ref, session, input);
    try {
      const name = stack.manifest.metadata.name;
      const listed = new Set(stack.manifest.spec.addons.map((a) => a.name));
      const target = await stackTarget(input);
      const records = await installRecords(target.core, target.cluster);
      const mine = [...records.entries()].filter(([n, s]) => listed.has(n) || s.stack?.name === name);
      const steps: RemovalStep[] = removalOrder(mine).map(([n, s]) => ({
        name: n,
        version: s.version,
        listed: listed.has(n),
        outcome: "not attempted",
      }));
      const neededBy = new Set(mine.flatMap(([, s]) => (s.dependencies ?? []).map((d) => d.name)));
      const kept = [...records.keys()].filter((n) => neededBy.has(n) && !mine.some(([m]) => m === n)).sort();
      await removeInOrder(
        target.core,
        target.cluster,
        steps,
        input,
        (step) => `${step.listed ? "listed in" : "installed by"} stack ${name}`,
      );
      const failed = steps.find((s) => s.outcome === "failed");
      return {
        ok: failed === undefined,
        stack: stackInfo(stack),
        target: target.target,
        steps,
        absent: [...listed].filter((n) => !records.has(n)),
        kept,
        exitCode: failed?.exitCode ?? 0,
      };
    } finally {
      await stack.cleanup();
    }
  });
}

export function renderStackUninstall(r: StackUninstallResult): string {
  const lines = [`Uninstall of stack ${r.stack.name} ${r.stack.version} (${r.stack.source}) from ${r.target.server ?? "unknown cluster"}:`];
  for (const s of r.steps) lines.push(`  ${s.outcome.padEnd(13)} ${s.name} ${s.version ?? ""}${s.listed ? "" : " (dependency)"}`.trimEnd());
  if (r.absent.length > 0) lines.push(`  not installed: ${r.absent.join(", ")}`);
  if (r.kept.length > 0) lines.push(`  kept (not installed by this stack): ${r.kept.join(", ")}`);
  const removed = r.steps.filter((s) => s.outcome === "removed").length;
  if (r.ok) lines.push(`${removed} removed`);
  else {
    lines.push(
      `removed: ${
        r.steps
          .filter((s) => s.outcome === "removed")
          .map((s) => s.name)
          .join(", ") || "nothing"
      }`,
    );
    lines.push(
      `failed: ${r.steps
        .filter((s) => s.outcome === "failed")
        .map((s) => s.name)
        .join(", ")}`,
    );
    lines.push(
      `not attempted: ${
        r.steps
          .filter((s) => s.outcome === "not attempted")
          .map((s) => s.name)
          .join(", ") || "nothing"
      }`,
    );
  }
  return lines.map(terminalLine).join("\n");
}
