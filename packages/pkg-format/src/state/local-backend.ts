/**
 * The local state backend (the default): files under the state directory
 * (PK3S_STATE_DIR), directories 0700, files 0600, each write atomic (temp
 * file + fsync + rename), one lock file per lock (host/lock.ts).
 *
 * A transaction stages its writes and applies them only when its body
 * succeeded, so a body that throws leaves every file as it was. The writes of
 * a transaction are applied one file after the other: a crash between two of
 * them leaves each file whole (old or new), not all of them from the same
 * transaction — the PostgreSQL backend is the one with that guarantee.
 */
import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { access, readdir, rename, rm, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { copyFileAtomic, readJsonFile, writeJsonAtomic } from "../host/atomic.js";
import { acquireLock, inspectLock } from "../host/lock.js";
import { ensurePrivateDir, stateDir } from "../host/paths.js";
import type {
  BlobSlot,
  EngineDatabase,
  LockOptions,
  LockRef,
  LockState,
  StateBackend,
  StateCollection,
  StateLock,
  StateRef,
  StateTransaction,
} from "./backend.js";
import { checkedDocument, notJson } from "./document-check.js";

type Step = () => Promise<void>;

export class LocalStateBackend implements StateBackend {
  readonly kind = "local";

  get location(): string {
    return stateDir();
  }

  private path(relative: string): string {
    return join(stateDir(), relative);
  }

  describe(collection: StateCollection<unknown>, ref: StateRef): string {
    return this.path(collection.localFile(ref));
  }

  async read<T>(collection: StateCollection<T>, ref: StateRef): Promise<T | undefined> {
    const file = this.describe(collection, ref);
    let raw: unknown;
    try {
      raw = await readJsonFile(file);
    } catch (err) {
      throw notJson(collection, file, err);
    }
    return raw === undefined ? undefined : checkedDocument(collection, raw, file);
  }

  async listNames(collection: StateCollection<unknown>, scope: string): Promise<string[]> {
    try {
      const entries = await readdir(this.path(collection.localNamesDir(scope)), { withFileTypes: true });
      return entries
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  async transaction<T>(body: (tx: StateTransaction) => Promise<T>): Promise<T> {
    const steps: Step[] = [];
    const tx: StateTransaction = {
      write: async (collection, ref, value) => {
        const file = this.describe(collection, ref);
        const checked = collection.schema.parse(value);
        steps.push(async () => {
          await ensurePrivateDir(dirname(file));
          await writeJsonAtomic(file, checked);
        });
      },
      remove: async (collection, ref) => {
        const file = this.describe(collection, ref);
        steps.push(() => unlink(file).catch(ignoreMissing));
      },
      putBlob: async (slot, ref, source, options = {}) => {
        const file = this.path(slot.localFile(ref));
        await access(source);
        steps.push(async () => {
          await ensurePrivateDir(dirname(file));
          if (options.move === true) await moveFile(source, file);
          else await copyFileAtomic(source, file);
        });
      },
      removeBlob: async (slot, ref) => {
        const file = this.path(slot.localFile(ref));
        steps.push(() => rm(file, { force: true }));
      },
    };
    const result = await body(tx);
    for (const step of steps) await step();
    return result;
  }

  writeOnExit<T>(collection: StateCollection<T>, ref: StateRef, value: T, blob?: { slot: BlobSlot; file: string }): boolean {
    const file = this.describe(collection, ref);
    const tmp = `${file}.${process.pid}.interrupt.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(collection.schema.parse(value), null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing to clean
      }
      return false;
    }
    if (blob !== undefined) {
      try {
        renameSync(blob.file, this.path(blob.slot.localFile(ref)));
      } catch {
        // best effort: the record says the run was interrupted
      }
    }
    return true;
  }

  async blobFile(slot: BlobSlot, ref: StateRef): Promise<string | undefined> {
    const file = this.path(slot.localFile(ref));
    return access(file).then(
      () => file,
      () => undefined,
    );
  }

  async lock(ref: LockRef, options: LockOptions = {}): Promise<StateLock> {
    await ensurePrivateDir(dirname(ref.localFile));
    const lock = await acquireLock(ref.localFile, options);
    return {
      holder: lock.holder,
      release: () => lock.release(),
      releaseOnExit: () => {
        try {
          unlinkSync(ref.localFile);
        } catch {
          // best effort: a stale lock is reported as such
        }
      },
    };
  }

  inspectLock(ref: LockRef): Promise<LockState> {
    return inspectLock(ref.localFile);
  }

  engineDatabase(): EngineDatabase | undefined {
    return undefined;
  }

  async close(): Promise<void> {
    // nothing held open
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
}

/** Rename into place (same filesystem), or copy atomically and remove the source. */
async function moveFile(source: string, target: string): Promise<void> {
  try {
    await rename(source, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    await copyFileAtomic(source, target);
    await unlink(source);
  }
}
