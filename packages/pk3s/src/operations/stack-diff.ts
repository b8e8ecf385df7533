/**
 * `pk3s stack diff NAME|FILE`: drift between what the stack installs (its
 * lock, or the packages it resolves to) and the cluster's install records,
 * per add-on: not installed, not deployed (a failed or interrupted run),
 * another version, another package (digest) of the same version, other
 * values. Values are compared by Core's keyed fingerprint: Core computes the
 * fingerprint of the stack's values in a dry run (one run, like `stack
 * plan`) and pk3s compares it with the record's, so no value and no key ever
 * leave Core. Add-ons this stack installed that it no longer lists are drift
 * too; add-ons installed on their own or by another stack are listed, not
 * counted.
 *
 * Exit 0: no drift. Exit 1: drift (the summary and `--json` `drift: true`
 * say so). Anything that stops the comparison keeps its own code (3, 4, 5,
 * 6, …; a failing Core run is 1 too, and its error is printed).
 */
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { ClusterTarget } from "../delegate/kubeconfig-target.js";
import { packageRef } from "../stack/stack-packages.js";
import type { InstalledState } from "./runtime-status.js";
import { lockLine, type NotInStack, notInStack, stackInfo } from "./stack-plan.js";
import { type LockUse, type StackCommandInput, stackThroughCore, withPreparedStack } from "./stack-prepare.js";

export const DRIFT_EXIT_CODE = 1;

export interface AddonDrift {
  name: string;
  /** What the stack installs. */
  version: string;
  digest: string;
  listed: boolean;
  /** What the cluster's record says (undefined: not installed). */
  cluster:
    | { version: string | undefined; status: string | undefined; digest: string | undefined; installedBy: string | undefined }
    | undefined;
  /** One line per difference; empty: as the stack installs it. */
  differences: string[];
  /** Facts that are not drift (installed by hand with the same package and values, from another lock). */
  notes: string[];
}

export interface StackDiffResult {
  ok: true;
  drift: boolean;
  stack: { name: string; version: string; source: string };
  lock: LockUse;
  target: ClusterTarget;
  addons: AddonDrift[];
  /** Installed by this stack, no longer in it (drift); and what else is installed (not drift). */
  notInStack: NotInStack[];
  exitCode: number;
}

const short = (digest: string | undefined): string => (digest === undefined ? "none" : `${digest.slice(0, 19)}…`);

function compare(
  want: { version: string; digest: string; valuesFingerprint: string | undefined },
  record: InstalledState | undefined,
  stackName: string,
  lockDigest: string | undefined,
): { differences: string[]; notes: string[] } {
  if (record === undefined) return { differences: ["not installed"], notes: [] };
  const differences: string[] = [];
  const notes: string[] = [];
  if (record.status !== "deployed") differences.push(`last run ended ${record.status ?? "unknown"}`);
  if (record.version !== want.version) differences.push(`version: stack ${want.version}, cluster ${record.version ?? "unknown"}`);
  else if (record.digest !== want.digest)
    differences.push(`package: stack ${short(want.digest)}, cluster ${short(record.digest)} (same version)`);
  if (record.version === want.version && record.valuesFingerprint !== want.valuesFingerprint) {
    differences.push(
      record.valuesFingerprint === undefined
        ? "values: unknown on the cluster (recorded without a fingerprint)"
        : `values: stack ${short(want.valuesFingerprint)}, cluster ${short(record.valuesFingerprint)}`,
    );
  }
  if (record.stack?.name !== stackName) {
    notes.push(record.stack === undefined ? "installed on its own" : `installed by stack ${record.stack.name}`);
  } else if (lockDigest !== undefined && record.stack.lockDigest !== lockDigest) {
    notes.push(`installed from another lock (${short(record.stack.lockDigest)})`);
  }
  return { differences, notes };
}

export async function diffStack(input: StackCommandInput): Promise<StackDiffResult> {
  return withPreparedStack(input, { writeLock: false }, async (prepared) => {
    const { stack, resolved, target } = prepared;
    const name = stack.manifest.metadata.name;
    const { records, run } = await stackThroughCore(prepared, { dryRun: true, timeout: input.timeout });
    const addons = resolved.packages.map((p): AddonDrift => {
      const record = records.get(p.entry.name);
      const want = {
        version: p.entry.version,
        digest: p.entry.digest ?? "",
        valuesFingerprint: run.outcomes.get(p.entry.name)?.valuesFingerprint,
      };
      const { catalog: _catalog, ...ref } = packageRef(p);
      return {
        ...ref,
        cluster:
          record === undefined
            ? undefined
            : { version: record.version, status: record.status, digest: record.digest, installedBy: record.stack?.name },
        ...compare(want, record, name, prepared.lock.digest),
      };
    });
    const rest = notInStack(name, new Set(addons.map((a) => a.name)), records);
    const drift = addons.some((a) => a.differences.length > 0) || rest.some((r) => r.prunable);
    return {
      ok: true as const,
      drift,
      stack: stackInfo(stack),
      lock: prepared.lock,
      target,
      addons,
      notInStack: rest,
      exitCode: drift ? DRIFT_EXIT_CODE : 0,
    };
  });
}

export function renderStackDiff(r: StackDiffResult): string {
  const lines = [`Drift of stack ${r.stack.name} ${r.stack.version} (${r.stack.source}) on ${r.target.server ?? "unknown cluster"}:`];
  const lock = lockLine(r.lock);
  if (lock !== undefined) lines.push(lock);
  const width = Math.max(...r.addons.map((a) => `${a.name} ${a.version}`.length));
  for (const a of r.addons) {
    const notes = a.notes.length === 0 ? "" : ` (${a.notes.join("; ")})`;
    lines.push(`  ${a.differences.length === 0 ? "same " : "DRIFT"} ${`${a.name} ${a.version}`.padEnd(width)}${notes}`.trimEnd());
    for (const d of a.differences) lines.push(`        ${d}`);
  }
  for (const n of r.notInStack) {
    const by = n.installedBy === undefined ? "installed on its own" : `installed by stack ${n.installedBy}`;
    lines.push(
      `  ${n.prunable ? "DRIFT" : "other"} ${n.name} ${n.version ?? "?"}: not in the stack (${by}${n.prunable ? "; stack install --prune removes it" : ""})`,
    );
  }
  const drifted = r.addons.filter((a) => a.differences.length > 0).length + r.notInStack.filter((n) => n.prunable).length;
  lines.push(
    r.drift ? `drift: ${drifted} add-on${drifted === 1 ? " differs" : "s differ"} from the stack (exit ${DRIFT_EXIT_CODE})` : "no drift",
  );
  return lines.map(terminalLine).join("\n");
}
