/**
 * One-holder locks on the local filesystem (DESIGN.md §5).
 *
 * The lock file is written complete under a temp name and then hard-linked
 * into place, so it is never seen empty or half-written and creation is
 * atomic (link fails with EEXIST if someone else holds it). It records who
 * holds it; a holder whose pid is gone on this host is *stale*, reported as
 * such, and is only taken over when the caller says so (`--break-lock`).
 *
 * Taking over a stale lock is atomic. Reading the holder, then unlinking and
 * linking, lets two runs that both saw the same stale holder both "win" (the
 * second unlinks the first's fresh lock). Instead, a taker must first create
 * `<lock>.takeover-<dev>-<ino>` exclusively (O_EXCL), named after the stale
 * lock file's inode, so exactly one run per stale lock gets to act; holding
 * it, the taker re-reads the lock and removes it only if it is still that
 * very file (same inode, same content), then links its own. Everyone else
 * gets exit 7 naming the new holder. A takeover file left by a taker that
 * crashed in those few microseconds is reported with a hint; it is never
 * removed automatically (that would reopen the race one level up).
 */
import { link, open, unlink, writeFile } from "node:fs/promises";
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

/** One lock file as read: who holds it, and which file it was (for the takeover check). */
interface LockFile {
  holder: LockHolder;
  content: string;
  dev: number;
  ino: number;
}

const UNKNOWN_HOLDER: LockHolder = { pid: 0, host: "unknown", startedAt: "unknown" };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function parseHolder(content: string): LockHolder {
  try {
    const parsed = JSON.parse(content) as LockHolder;
    return typeof parsed === "object" && parsed !== null && typeof parsed.pid === "number" ? parsed : UNKNOWN_HOLDER;
  } catch {
    // Unreadable content cannot come from us (we link complete files); report it as held by an unknown holder.
    return UNKNOWN_HOLDER;
  }
}

/** The lock file's holder, content and identity, read from one open file (never a mix of two files). */
async function readLockFile(file: string): Promise<LockFile | undefined> {
  let handle: import("node:fs/promises").FileHandle;
  try {
    handle = await open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return { holder: UNKNOWN_HOLDER, content: "", dev: -1, ino: -1 };
  }
  try {
    const stats = await handle.stat();
    const content = await handle.readFile("utf8");
    return { holder: parseHolder(content), content, dev: stats.dev, ino: stats.ino };
  } finally {
    await handle.close();
  }
}

function isStale(holder: LockHolder): boolean {
  return holder.host === hostname() && holder.pid > 0 && !pidAlive(holder.pid);
}

/** Whether a lock is free, held by a live process, or stale (holder dead on this host). */
export async function inspectLock(file: string): Promise<LockState> {
  const read = await readLockFile(file);
  if (read === undefined) return { state: "free" };
  return { state: isStale(read.holder) ? "stale" : "held", holder: read.holder };
}

function takeoverFile(file: string, seen: LockFile): string {
  return `${file}.takeover-${seen.dev}-${seen.ino}`;
}

/**
 * Replace the stale lock `seen` by ours (`tmp`), if and only if this run is
 * the one that claims it. "claimed-elsewhere": another run is taking it over.
 */
async function takeOver(file: string, seen: LockFile, tmp: string, claim: string): Promise<"taken" | "lost" | "claimed-elsewhere"> {
  const takeover = takeoverFile(file, seen);
  try {
    await writeFile(takeover, claim, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return "claimed-elsewhere";
    throw err;
  }
  try {
    const now = await readLockFile(file);
    // Someone took it over (and maybe released it) since we read it: not ours to remove.
    if (now === undefined || now.dev !== seen.dev || now.ino !== seen.ino || now.content !== seen.content) return "lost";
    await unlink(file);
    try {
      await link(tmp, file);
      return "taken";
    } catch (err) {
      // A plain acquirer got in between our unlink and link: it holds the lock now.
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return "lost";
      throw err;
    }
  } finally {
    await unlink(takeover).catch(() => undefined);
  }
}

/** `pid 123 on host running "profile install", started …`: who holds a lock, for messages. */
export function describeHolder(holder: LockHolder): string {
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
  const content = `${JSON.stringify(holder)}\n`;
  const lock: Lock = {
    file,
    holder,
    release: async () => {
      const current = await readLockFile(file);
      if (current !== undefined && current.content === content) await unlink(file).catch(() => undefined);
    },
  };
  const tmp = tempPathFor(file);
  await writeFile(tmp, content, { mode: 0o600, flag: "wx" });
  try {
    // Bounded: each round either takes the lock, throws, or saw the lock change hands.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(tmp, file);
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const seen = await readLockFile(file);
      if (seen === undefined) continue;
      const stale = isStale(seen.holder);
      if (stale && options.breakLock === true) {
        const outcome = await takeOver(file, seen, tmp, content);
        if (outcome === "taken") return lock;
        if (outcome === "lost") continue;
        throw new LockedError(`another run is taking over the stale lock (${describeHolder(seen.holder)})`, seen.holder, {
          where: file,
          hint: `retry in a moment; if no other run is starting, delete ${takeoverFile(file, seen)}`,
        });
      }
      throw new LockedError(
        stale
          ? `lock is held by a run that is no longer alive (${describeHolder(seen.holder)})`
          : `another run holds the lock (${describeHolder(seen.holder)})`,
        seen.holder,
        {
          where: file,
          hint: stale
            ? "the previous run was interrupted; rerun with --break-lock to take over the lock"
            : `wait for it to finish; if that process is really gone (another host), delete ${file}`,
        },
      );
    }
    throw new LockedError("could not take the lock: it kept changing hands", holder, { where: file, hint: "retry" });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Remove a lock regardless of its holder; returns who held it. */
export async function breakLock(file: string): Promise<LockHolder | undefined> {
  const holder = (await readLockFile(file))?.holder;
  await unlink(file).catch(() => undefined);
  return holder;
}
