/**
 * The PostgreSQL state backend: the records of a team in one database
 * (DESIGN.md §5), through the `pg` driver, which is loaded only here.
 *
 * - Documents and blobs live in the `pk3s` schema (postgres-migrations.ts),
 *   brought up to date when the backend opens.
 * - Every `transaction` is one SQL transaction on one pooled connection: a
 *   body that throws (or a failed statement) rolls back everything it wrote.
 * - A lock is a session-level advisory lock (`pg_try_advisory_lock` on a
 *   64-bit hash of the lock key) taken by a connection of its own that stays
 *   open for the run. When the run ends in any way — kill -9 included — the
 *   server ends the session and frees the lock: there are no stale locks to
 *   break. The holding session writes who it is into pk3s.lock_holders; a
 *   second run reads that row (checked against pg_locks, so a dead holder's
 *   old row is never mistaken for the live one) and exits 7 naming it.
 * - Kept packages are `bytea` rows with their sha256 digest; a run gets them
 *   as a file in the cache directory, verified against that digest first.
 * - The password in the URL never leaves this process: messages show the
 *   masked URL, errors are redacted, and OpenTofu gets it as PGPASSWORD.
 */
import { createHash } from "node:crypto";
import { access, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import type { ClientBase, ClientConfig, Pool, PoolClient } from "pg";
import { IntegrityError, isPk3sError, LockedError, type LockHolder, type Pk3sError, StepFailedError } from "../errors.js";
import { writeFileAtomic } from "../host/atomic.js";
import { describeHolder } from "../host/lock.js";
import { cacheDir, ensurePrivateDir } from "../host/paths.js";
import { createRedactor, type Redactor } from "../host/redact.js";
import type {
  BlobSlot,
  EngineDatabase,
  LockOptions,
  LockRef,
  LockState,
  OpenOptions,
  StateBackend,
  StateCollection,
  StateLock,
  StateRef,
  StateTransaction,
} from "./backend.js";
import { checkedDocument } from "./document-check.js";
import { MIGRATIONS, type Migration, migrate, SCHEMA } from "./postgres-migrations.js";
import { maskedUrl, urlPassword, urlWithoutPassword } from "./selection.js";

type PgModule = typeof import("pg");

const UNKNOWN_HOLDER: LockHolder = { pid: 0, host: "unknown", startedAt: "unknown" };
/** How long a second run waits for the holder's row to become visible (it is written right after the lock). */
const HOLDER_ROW_WAIT_MS = 2000;

/** The advisory lock id of a lock key: the first 8 bytes of sha256 as a signed 64-bit integer (decimal text). */
export function advisoryLockId(key: string): string {
  const digest = createHash("sha256").update(`productive-k3s lock\0${key}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/** pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low 32 bits), objsubid 1. */
function lockIdParts(id: string): { classid: string; objid: string } {
  const u = BigInt.asUintN(64, BigInt(id));
  return { classid: (u >> 32n).toString(), objid: (u & 0xffffffffn).toString() };
}

function applicationName(options: OpenOptions): string {
  const script = process.argv[1] === undefined ? "node" : basename(process.argv[1]).replace(/\.[cm]?js$/, "");
  return (options.application ?? script).slice(0, 63);
}

export async function openPostgresBackend(
  url: string,
  options: OpenOptions = {},
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<PostgresStateBackend> {
  const pg = (await import("pg")).default as PgModule;
  const backend = new PostgresStateBackend(pg, url, options);
  try {
    await backend.withClient((client) => migrate(client, migrations, backend.location));
  } catch (err) {
    await backend.close();
    throw err;
  }
  return backend;
}

export class PostgresStateBackend implements StateBackend {
  readonly kind = "postgres";
  readonly location: string;
  private readonly config: ClientConfig;
  private readonly pool: Pool;
  private readonly redact: Redactor;

  constructor(
    private readonly pg: PgModule,
    private readonly url: string,
    options: OpenOptions,
  ) {
    this.location = maskedUrl(url);
    this.redact = createRedactor([urlPassword(url)]);
    this.config = { connectionString: url, application_name: applicationName(options), connectionTimeoutMillis: 15_000, keepAlive: true };
    this.pool = new pg.Pool({ ...this.config, max: 4, idleTimeoutMillis: 1000, allowExitOnIdle: true });
    // An idle pooled connection that breaks is replaced on next use; the error must not crash the process.
    this.pool.on("error", () => undefined);
  }

  /** A database failure as a typed error (exit 1) with the URL masked and the password redacted. */
  private failure(err: unknown): Pk3sError {
    if (isPk3sError(err)) return err;
    const message = this.redact(err instanceof Error ? err.message : String(err));
    return new StepFailedError(`state database ${this.location}: ${message}`, {
      where: this.location,
      hint: "check PK3S_STATE_BACKEND (or --state-backend) and that the server accepts this user from this machine",
    });
  }

  private async query<R extends object>(sql: string, params: unknown[] = [], client?: ClientBase): Promise<R[]> {
    try {
      return (await (client ?? this.pool).query<R>(sql, params)).rows;
    } catch (err) {
      throw this.failure(err);
    }
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw this.failure(err);
    }
  }

  /** Run `body` on one pooled connection. */
  async withClient<T>(body: (client: ClientBase) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      return await body(client);
    } catch (err) {
      throw this.failure(err);
    } finally {
      client.release();
    }
  }

  describe(collection: StateCollection<unknown>, ref: StateRef): string {
    return `${this.location} (${collection.id} ${ref.scope === "" ? "" : `${ref.scope}/`}${ref.name})`;
  }

  async read<T>(collection: StateCollection<T>, ref: StateRef): Promise<T | undefined> {
    const rows = await this.query<{ body: unknown }>(
      `SELECT body FROM ${SCHEMA}.documents WHERE collection = $1 AND scope = $2 AND name = $3`,
      [collection.id, ref.scope, ref.name],
    );
    const row = rows[0];
    return row === undefined ? undefined : checkedDocument(collection, row.body, this.describe(collection, ref));
  }

  async listNames(collection: StateCollection<unknown>, scope: string): Promise<string[]> {
    const rows = await this.query<{ name: string }>(
      `SELECT name FROM ${SCHEMA}.documents WHERE collection = $1 AND scope = $2 ORDER BY name COLLATE "C"`,
      [collection.id, scope],
    );
    return rows.map((r) => r.name);
  }

  async transaction<T>(body: (tx: StateTransaction) => Promise<T>): Promise<T> {
    const moved: string[] = [];
    const client = await this.connect();
    try {
      await this.query("BEGIN", [], client);
      const tx: StateTransaction = {
        write: async (collection, ref, value) => {
          const checked = collection.schema.parse(value);
          await this.query(
            `INSERT INTO ${SCHEMA}.documents (collection, scope, name, body) VALUES ($1, $2, $3, $4::json)
             ON CONFLICT (collection, scope, name) DO UPDATE SET body = EXCLUDED.body, updated_at = now()`,
            [collection.id, ref.scope, ref.name, JSON.stringify(checked)],
            client,
          );
        },
        remove: async (collection, ref) => {
          await this.query(
            `DELETE FROM ${SCHEMA}.documents WHERE collection = $1 AND scope = $2 AND name = $3`,
            [collection.id, ref.scope, ref.name],
            client,
          );
        },
        putBlob: async (slot, ref, file, options = {}) => {
          const bytes = await readFile(file);
          const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
          await this.query(
            `INSERT INTO ${SCHEMA}.blobs (slot, scope, name, digest, size, bytes) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (slot, scope, name) DO UPDATE
               SET digest = EXCLUDED.digest, size = EXCLUDED.size, bytes = EXCLUDED.bytes, updated_at = now()`,
            [slot.id, ref.scope, ref.name, digest, bytes.length, bytes],
            client,
          );
          if (options.move === true) moved.push(file);
        },
        removeBlob: async (slot, ref) => {
          await this.query(
            `DELETE FROM ${SCHEMA}.blobs WHERE slot = $1 AND scope = $2 AND name = $3`,
            [slot.id, ref.scope, ref.name],
            client,
          );
        },
      };
      const result = await body(tx);
      await this.query("COMMIT", [], client);
      for (const file of moved) await rm(file, { force: true });
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  writeOnExit(): boolean {
    // No synchronous database access: the run's lock session ends with the process, and whoever looks next
    // finds the run still marked running with nobody holding its lock, i.e. interrupted.
    return false;
  }

  async blobFile(slot: BlobSlot, ref: StateRef): Promise<string | undefined> {
    const key = [slot.id, ref.scope, ref.name];
    const found = await this.query<{ digest: string }>(
      `SELECT digest FROM ${SCHEMA}.blobs WHERE slot = $1 AND scope = $2 AND name = $3`,
      key,
    );
    const digest = found[0]?.digest;
    if (digest === undefined) return undefined;
    const dir = join(cacheDir(), "state-blobs");
    const file = join(dir, digest.replace(":", "-"));
    // The cache only ever holds verified bytes; check them again anyway (a package is small, hashing is cheap).
    const cached = await access(file).then(
      () => readFile(file),
      () => undefined,
    );
    if (cached !== undefined && sha256(cached) === digest) return file;
    const rows = await this.query<{ bytes: Buffer; digest: string }>(
      `SELECT bytes, digest FROM ${SCHEMA}.blobs WHERE slot = $1 AND scope = $2 AND name = $3`,
      key,
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const actual = sha256(row.bytes);
    if (actual !== row.digest) {
      throw new IntegrityError("digest-mismatch", `the ${slot.id} blob of ${ref.name} in ${this.location} does not match its digest`, {
        where: this.location,
        hint: `expected ${row.digest}, got ${actual}; reinstall to store it again`,
      });
    }
    await ensurePrivateDir(dir);
    const target = join(dir, row.digest.replace(":", "-"));
    await writeFileAtomic(target, row.bytes);
    return target;
  }

  async lock(ref: LockRef, options: LockOptions = {}): Promise<StateLock> {
    const id = advisoryLockId(ref.key);
    const client = new this.pg.Client(this.config);
    let released = false;
    client.on("error", (err) => {
      if (released) return;
      process.stderr.write(
        `warning: lost the state database connection that holds the lock ${ref.key}: ${this.redact(err.message)}; another run may now take it\n`,
      );
    });
    try {
      await client.connect();
    } catch (err) {
      throw this.failure(err);
    }
    try {
      const got = await this.query<{ got: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS got", [id], client);
      if (got[0]?.got !== true) {
        const state = await this.inspectLock(ref);
        const holder = state.state === "free" ? UNKNOWN_HOLDER : state.holder;
        throw new LockedError(`another run holds the lock (${describeHolder(holder)})`, holder, {
          where: `${this.location} (lock ${ref.key})`,
          hint:
            `wait for it to finish. PostgreSQL frees the lock as soon as that run's database session ends (a killed run frees it at once)` +
            `${options.breakLock === true ? ", so there is no stale lock to break" : ""}; a hung session can be ended by a database administrator with pg_terminate_backend()`,
        });
      }
      const holder: LockHolder = {
        pid: process.pid,
        host: hostname(),
        startedAt: new Date().toISOString(),
        ...(options.command === undefined ? {} : { command: options.command }),
      };
      await this.query(
        `INSERT INTO ${SCHEMA}.lock_holders (lock_key, lock_id, backend_pid, pid, host, command, started_at)
         VALUES ($1, $2::bigint, pg_backend_pid(), $3, $4, $5, $6)
         ON CONFLICT (lock_key) DO UPDATE SET lock_id = EXCLUDED.lock_id, backend_pid = EXCLUDED.backend_pid, pid = EXCLUDED.pid,
           host = EXCLUDED.host, command = EXCLUDED.command, started_at = EXCLUDED.started_at`,
        [ref.key, id, holder.pid, holder.host, holder.command ?? null, holder.startedAt],
        client,
      );
      return {
        holder,
        release: async () => {
          if (released) return;
          released = true;
          try {
            await client.query(`DELETE FROM ${SCHEMA}.lock_holders WHERE lock_key = $1 AND backend_pid = pg_backend_pid()`, [ref.key]);
            await client.query("SELECT pg_advisory_unlock($1::bigint)", [id]);
          } catch {
            // ending the session below frees the lock anyway
          } finally {
            await client.end().catch(() => undefined);
          }
        },
        releaseOnExit: () => {
          // The process exits next; the server ends the session and frees the lock.
          released = true;
        },
      };
    } catch (err) {
      released = true;
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  async inspectLock(ref: LockRef): Promise<LockState> {
    const id = advisoryLockId(ref.key);
    const { classid, objid } = lockIdParts(id);
    const deadline = Date.now() + HOLDER_ROW_WAIT_MS;
    for (;;) {
      const rows = await this.query<{
        session: number;
        backend_pid: number | null;
        pid: number | null;
        host: string | null;
        command: string | null;
        started_at: Date | null;
      }>(
        `SELECT l.pid AS session, h.backend_pid, h.pid, h.host, h.command, h.started_at
           FROM pg_locks l LEFT JOIN ${SCHEMA}.lock_holders h ON h.lock_key = $3
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
            AND l.classid = $1::oid AND l.objid = $2::oid
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [classid, objid, ref.key],
      );
      const row = rows[0];
      if (row === undefined) return { state: "free" };
      if (row.backend_pid === row.session && row.pid !== null && row.host !== null && row.started_at !== null) {
        return {
          state: "held",
          holder: {
            pid: row.pid,
            host: row.host,
            startedAt: row.started_at.toISOString(),
            ...(row.command === null ? {} : { command: row.command }),
          },
        };
      }
      // The holder took the lock but its row is not committed yet (or belongs to a dead earlier holder).
      if (Date.now() > deadline) return { state: "held", holder: UNKNOWN_HOLDER };
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  engineDatabase(): EngineDatabase {
    const password = urlPassword(this.url);
    return {
      connString: urlWithoutPassword(this.url),
      env: password === undefined ? {} : { PGPASSWORD: password },
      location: this.location,
    };
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}
