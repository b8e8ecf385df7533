/**
 * One-holder locks on the local filesystem (DESIGN.md §5).
 *
 * The lock file is written complete under a temp name and then hard-linked
 * into place, so it is never seen empty or half-written and creation is
 * atomic (link fails with EEXIST if someone else holds it). It records who
 * holds it; a holder whose pid is gone on this host is *stale*, reported as
 * such, and is only taken over when the caller says so (`--break-lock`):
 * an automatic takeover could race with a second runner doing the same.
 */
import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { LockedError, type LockHolder } from "../errors.js";
import { tempPathFor } from "./atomic.js";

export interface Lock {
  readonly file: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** Shown to whoever finds the lock taken. */
  command?: string;
  /** Take over a lock whose holder is no longer running on this host. */
  breakLock?: boolean;
}

export type LockState = { state: "free" } | { state: "held" | "stale"; holder: LockHolder };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as LockHolder;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // Unreadable content cannot come from us (we link complete files); report it as held by an unknown holder.
    return { pid: 0, host: "unknown", startedAt: "unknown" };
  }
}

/** Whether a lock is free, held by a live process, or stale (holder dead on this host). */
export async function inspectLock(file: string): Promise<LockState> {
  const holder = await readHolder(file);
  if (holder === undefined) return { state: "free" };
  const stale = holder.host === hostname() && holder.pid > 0 && !pidAlive(holder.pid);
  return { state: stale ? "stale" : "held", holder };
}

function describe(holder: LockHolder): string {
  const cmd = holder.command === undefined ? "" : ` running "${holder.command}"`;
  return `pid ${holder.pid} on ${holder.host}${cmd}, started ${holder.startedAt}`;
}

export async function acquireLock(file: string, options: AcquireOptions = {}): Promise<Lock> {
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    ...(options.command === undefined ? {} : { command: options.command }),
  };
  const tmp = tempPathFor(file);
  await writeFile(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o600, flag: "wx" });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(tmp, file);
        return {
          file,
          holder,
          release: async () => {
            const current = await readHolder(file);
            if (current !== undefined && current.pid === holder.pid && current.startedAt === holder.startedAt) {
              await unlink(file).catch(() => undefined);
            }
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const state = await inspectLock(file);
      if (state.state === "free") continue;
      if (state.state === "stale" && options.breakLock === true && attempt === 0) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      const stale = state.state === "stale";
      throw new LockedError(
        stale
          ? `lock is held by a run that is no longer alive (${describe(state.holder)})`
          : `another run holds the lock (${describe(state.holder)})`,
        state.holder,
        {
          where: file,
          hint: stale
            ? "the previous run was interrupted; rerun with --break-lock to take over the lock"
            : `wait for it to finish; if that process is really gone (another host), delete ${file}`,
        },
      );
    }
    throw new LockedError("could not take the lock", holder, { where: file });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Remove a lock regardless of its holder; returns who held it. */
export async function breakLock(file: string): Promise<LockHolder | undefined> {
  const holder = await readHolder(file);
  await unlink(file).catch(() => undefined);
  return holder;
}
