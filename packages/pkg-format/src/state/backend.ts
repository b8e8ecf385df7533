/**
 * Where the runtimes keep their records (DESIGN.md §5): one interface, two
 * backends.
 *
 * - local (the default): files under the state directory exactly as before —
 *   documents as JSON files written atomically, blobs as files, one lock file
 *   per lock (local-backend.ts).
 * - postgres (`PK3S_STATE_BACKEND=postgres://…` or `--state-backend`): one
 *   database shared by a team; every write is a transaction, locks are
 *   advisory locks held by a dedicated connection for the whole run, so a
 *   killed run never leaves a stale lock (postgres-backend.ts, loaded — with
 *   the `pg` driver — only when chosen).
 *
 * The runtimes describe what they store as collections (a zod schema, a name,
 * the local file layout) and never learn which backend is in use, except
 * Infra's OpenTofu engine, which hands the same database to tofu
 * (`engineDatabase`).
 */
import type { z } from "zod";
import type { LockHolder } from "../errors.js";
import { type StateBackendSpec, stateBackendSpec } from "./selection.js";

/** A document's address: `scope` groups documents (Core: the cluster id; Infra: ""), `name` is one of them. */
export interface StateRef {
  scope: string;
  name: string;
}

/** A kind of document: validated against `schema` whenever it is written or read. */
export interface StateCollection<T> {
  /** Stable identifier, stored with every document (PostgreSQL: the `collection` column). */
  readonly id: string;
  /** What one document is, for messages: `instance record`. */
  readonly label: string;
  readonly schema: z.ZodType<T>;
  /** What to do about a document that does not validate. */
  readonly damagedHint: string;
  /** Local backend: the document's file, relative to the state directory. */
  localFile(ref: StateRef): string;
  /** Local backend: the directory whose subdirectories are the names in `scope`, relative to the state directory. */
  localNamesDir(scope: string): string;
}

/** Files kept with a document (the package an instance or add-on was installed from). */
export interface BlobSlot {
  readonly id: string;
  /** Local backend: the file, relative to the state directory. */
  localFile(ref: StateRef): string;
}

/** One lock: `key` names it in every backend; the local backend keeps it in `localFile` (absolute). */
export interface LockRef {
  key: string;
  localFile: string;
}

export interface LockOptions {
  /** Shown to whoever finds the lock taken. */
  command?: string;
  /** Take over a lock whose holder is no longer running (local backend; PostgreSQL locks are never stale). */
  breakLock?: boolean;
}

export type LockState = { state: "free" } | { state: "held" | "stale"; holder: LockHolder };

export interface StateLock {
  readonly holder: LockHolder;
  release(): Promise<void>;
  /** For the interrupt path (the process exits right after): synchronous, best effort. */
  releaseOnExit(): void;
}

/** The writes of one transaction: all of them happen, or none. */
export interface StateTransaction {
  /** Validated against the collection's schema before anything is written. */
  write<T>(collection: StateCollection<T>, ref: StateRef, value: T): Promise<void>;
  remove(collection: StateCollection<unknown>, ref: StateRef): Promise<void>;
  /** Keep the bytes of `file`; `move`: the file is ours and goes away once kept. */
  putBlob(slot: BlobSlot, ref: StateRef, file: string, options?: { move?: boolean }): Promise<void>;
  removeBlob(slot: BlobSlot, ref: StateRef): Promise<void>;
}

/** How OpenTofu reaches the same database through its `pg` backend. */
export interface EngineDatabase {
  /** The connection string WITHOUT the password (it goes in `env`). */
  connString: string;
  /** Child environment carrying the credentials (PGPASSWORD), never argv. */
  env: Record<string, string>;
  /** The masked URL, for messages. */
  location: string;
}

export interface StateBackend {
  readonly kind: "local" | "postgres";
  /** Where the state is, for messages: the state directory, or the URL with its password masked. */
  readonly location: string;
  /** Where one document is, for messages (`where:`): its file, or the database and the document's key. */
  describe(collection: StateCollection<unknown>, ref: StateRef): string;
  /** The document, `undefined` when there is none; one that does not validate is a ValidationError (exit 4). */
  read<T>(collection: StateCollection<T>, ref: StateRef): Promise<T | undefined>;
  /** The names stored in `scope`, sorted; the caller checks them before using them. */
  listNames(collection: StateCollection<unknown>, scope: string): Promise<string[]>;
  /** Run `body`'s writes as one transaction; a throw leaves the state as it was. */
  transaction<T>(body: (tx: StateTransaction) => Promise<T>): Promise<T>;
  /**
   * Interrupt path (synchronous, the process exits right after): write one document and keep one blob if
   * this backend can do so synchronously. Returns false when it cannot (PostgreSQL): the next run then finds
   * the run interrupted through its lock, which the server released.
   */
  writeOnExit<T>(collection: StateCollection<T>, ref: StateRef, value: T, blob?: { slot: BlobSlot; file: string }): boolean;
  /** A local file holding the blob's bytes (verified against their digest), `undefined` when none is kept. */
  blobFile(slot: BlobSlot, ref: StateRef): Promise<string | undefined>;
  /** Take a lock for the rest of the run; a second holder gets LockedError (exit 7) naming the first. */
  lock(ref: LockRef, options?: LockOptions): Promise<StateLock>;
  /** Whether a lock is free, held by a live run, or stale (local: its holder died on this host). */
  inspectLock(ref: LockRef): Promise<LockState>;
  /** PostgreSQL: the database for OpenTofu's `pg` backend; local: undefined. */
  engineDatabase(): EngineDatabase | undefined;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Who connects, for PostgreSQL's application_name and the lock holder rows: `productive-k3s-infra`. */
  application?: string;
}

/** Open the backend `spec` names (the PostgreSQL code and its driver are loaded only for a postgres URL). */
export async function openStateBackend(spec: StateBackendSpec, options: OpenOptions = {}): Promise<StateBackend> {
  if (spec.kind === "local") {
    const { LocalStateBackend } = await import("./local-backend.js");
    return new LocalStateBackend();
  }
  const { openPostgresBackend } = await import("./postgres-backend.js");
  return openPostgresBackend(spec.url, options);
}

let current: Promise<StateBackend> | undefined;

/** This process's backend (chosen by --state-backend or PK3S_STATE_BACKEND), opened once. */
export function stateBackend(options: OpenOptions = {}): Promise<StateBackend> {
  current ??= openStateBackend(stateBackendSpec(), options).catch((err: unknown) => {
    current = undefined;
    throw err;
  });
  return current;
}

/** Close this process's backend (tests switch backends; the CLIs exit instead). */
export async function closeStateBackend(): Promise<void> {
  const open = current;
  current = undefined;
  if (open !== undefined) await (await open.catch(() => undefined))?.close();
}
