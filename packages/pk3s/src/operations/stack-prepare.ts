/**
 * What `stack plan`, `stack install` and `stack diff` do before Core runs:
 * open the stack, settle its packages (lock or catalogs), fetch and verify
 * every one, check the stack's Core requirement, and find the target cluster
 * and Core. `install` also writes a refreshed lock when the one on disk was
 * stale (like `npm install`; `--frozen` refuses instead, like `npm ci`).
 */
import type { CoreRunFlags } from "../delegate/core-run-flags.js";
import { type CoreStackRun, coreFailed, installRecords, runStackInCore } from "../stack/core-stack-run.js";
import type { OpenedStack } from "../stack/opened-stack.js";
import { openStack } from "../stack/opened-stack.js";
import { assertStackRuntime } from "../stack/stack-compatibility.js";
import { fetchStackPackages, resolveStackPackages, type StackPackages, writeStackLock } from "../stack/stack-packages.js";
import type { FetchFlags } from "./fetch-entry.js";
import type { InstalledState } from "./runtime-status.js";
import { type Session, withSession } from "./session.js";
import { checkClusterFlags, type StackClusterFlags, type StackTarget, stackTarget } from "./stack-target.js";
import { versionInfo } from "./version-info.js";

export interface StackCommandInput extends FetchFlags, StackClusterFlags, CoreRunFlags {
  ref: string;
  frozen?: boolean | undefined;
  json: boolean;
}

/** How the lock file took part. */
export interface LockUse {
  /** none: a catalog stack (no lock); used: installed as locked; stale: resolved again, not written; absent: no lock
   * file; updated: a stale lock refreshed and written; written: a new lock written (`pk3s lock`). */
  state: "none" | "used" | "stale" | "absent" | "updated" | "written";
  file: string | undefined;
  /** The digest of the lock the packages come from (used/updated/written). */
  digest: string | undefined;
  /** What a refresh changed. */
  changes: string[];
}

export interface PreparedStack extends StackTarget {
  session: Session;
  stack: OpenedStack;
  resolved: StackPackages;
  /** name → verified package file. */
  files: Map<string, string>;
  lock: LockUse;
  coreVersion: string | undefined;
}

/** Where the packages came from, once fetched (and, with `writeLock`, the stale lock refreshed on disk). */
export async function settleLock(stack: OpenedStack, resolved: StackPackages, writeLock: boolean, createLock = false): Promise<LockUse> {
  const { file, current, status } = resolved.lock;
  if (file === undefined) return { state: "none", file, digest: undefined, changes: [] };
  if (status === "used") return { state: "used", file, digest: current?.digest, changes: [] };
  if (!writeLock || (current === undefined && !createLock)) {
    return { state: current === undefined ? "absent" : "stale", file, digest: undefined, changes: [] };
  }
  const written = await writeStackLock(stack, resolved.packages, resolved.lock);
  return { state: current === undefined ? "written" : "updated", file, digest: written.digest, changes: written.changes };
}

/**
 * Run `fn` with the stack prepared; the stack's extraction (a catalog stack) and the session are cleaned up
 * after. When `--instance` gives no kubeconfig, Infra's exit code is the command's.
 */
export async function withPreparedStack<T>(
  input: StackCommandInput,
  options: { writeLock: boolean },
  fn: (prepared: PreparedStack) => Promise<T>,
): Promise<T> {
  checkClusterFlags(input);
  return withSession({ offline: input.offline }, async (session) => {
    const stack = await openStack(input.ref, session, input);
    try {
      const resolved = await resolveStackPackages(session, stack, { ...input, frozen: input.frozen });
      const files = await fetchStackPackages(session, resolved.packages, input);
      const lock = await settleLock(stack, resolved, options.writeLock);
      const coreVersion = (await versionInfo({ core: input.coreBin })).runtimes.find((r) => r.name === "productive-k3s-core")?.version;
      assertStackRuntime(stack.manifest, stack.label, { coreVersion: coreVersion ?? undefined });
      const target = await stackTarget(input);
      return await fn({ ...target, session, stack, resolved, files, lock, coreVersion: coreVersion ?? undefined });
    } finally {
      await stack.cleanup();
    }
  });
}

/**
 * The records as they are, then the whole stack through Core in one run (a dry run for plan and diff: Core's
 * refusal is the command's error, and the stack's cluster requirements are checked against what Core read).
 */
export async function stackThroughCore(
  prepared: PreparedStack,
  options: CoreRunFlags & { dryRun: boolean },
): Promise<{ records: Map<string, InstalledState>; run: CoreStackRun }> {
  const { stack, resolved, files, core, cluster } = prepared;
  const records = await installRecords(core, cluster);
  const run = await runStackInCore(core, cluster, resolved.packages, files, {
    stackName: stack.manifest.metadata.name,
    lockDigest: prepared.lock.digest,
    ...options,
  });
  if (options.dryRun) {
    if (run.exitCode !== 0) throw coreFailed(core, "addon install --dry-run", run.exitCode, run.error);
    assertStackRuntime(stack.manifest, stack.label, { coreVersion: prepared.coreVersion, cluster: run.clusterInfo });
  }
  return { records, run };
}
