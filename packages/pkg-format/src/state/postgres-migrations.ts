/**
 * The schema of the PostgreSQL state backend, versioned: `pk3s.schema_version`
 * holds one row per applied migration. `migrate` brings a database up to the
 * newest version this build knows, in one transaction per run under a
 * transaction-level advisory lock (two operators starting at once on a new
 * database do not both migrate it), and refuses a database that a newer build
 * already migrated further (exit 4: upgrade the runtime).
 *
 * v1:
 *   pk3s.documents     one JSON document per (collection, scope, name): Infra
 *                      instances, Core install records and cluster entries.
 *                      `json`, not `jsonb`: a document reads back byte for
 *                      byte as written (key order included); cast to jsonb
 *                      to query it.
 *   pk3s.blobs         kept packages (bytea) with their sha256 digest.
 *   pk3s.lock_holders  who holds each advisory lock: written by the holding
 *                      session itself, so the row of a dead holder is simply
 *                      superseded by the next one (the lock itself is the
 *                      server's: pg_locks).
 */
import type { ClientBase } from "pg";
import { ValidationError } from "../errors.js";

export interface Migration {
  version: number;
  description: string;
  statements: string[];
}

export const SCHEMA = "pk3s";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "documents, blobs and lock holders",
    statements: [
      `CREATE TABLE ${SCHEMA}.documents (
         collection text NOT NULL,
         scope text NOT NULL,
         name text NOT NULL,
         body json NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (collection, scope, name)
       )`,
      `CREATE TABLE ${SCHEMA}.blobs (
         slot text NOT NULL,
         scope text NOT NULL,
         name text NOT NULL,
         digest text NOT NULL CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
         size bigint NOT NULL,
         bytes bytea NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (slot, scope, name)
       )`,
      `CREATE TABLE ${SCHEMA}.lock_holders (
         lock_key text PRIMARY KEY,
         lock_id bigint NOT NULL,
         backend_pid integer NOT NULL,
         pid integer NOT NULL,
         host text NOT NULL,
         command text,
         started_at timestamptz NOT NULL
       )`,
    ],
  },
];

/** Serialises migrations across sessions (pg_advisory_xact_lock): "pk3s" + "migr" in ASCII. */
const MIGRATION_LOCK_ID = "8100624925605848946";

export interface MigrationResult {
  from: number;
  to: number;
}

async function currentVersion(client: ClientBase): Promise<number | undefined> {
  const exists = await client.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [`${SCHEMA}.schema_version`]);
  if (exists.rows[0]?.present !== true) return undefined;
  const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${SCHEMA}.schema_version`);
  return r.rows[0]?.v ?? 0;
}

function tooNew(found: number, known: number, where: string): ValidationError {
  return new ValidationError(`the state database ${where} has schema version ${found}; this build knows versions up to ${known}`, [], {
    where,
    hint: "upgrade productive-k3s-core/productive-k3s-infra to the version your team uses",
  });
}

/**
 * Apply every migration newer than the database's version (all in one transaction: a failing statement
 * leaves the database at the version it had). `where` (the masked URL) is for messages.
 */
export async function migrate(client: ClientBase, migrations: readonly Migration[], where: string): Promise<MigrationResult> {
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  // Fast path, no lock and no DDL: every command of an up-to-date database pays one query.
  const seen = await currentVersion(client);
  if (seen !== undefined && seen > latest) throw tooNew(seen, latest, where);
  if (seen === latest) return { from: seen, to: seen };

  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_ID]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_version (
         version integer PRIMARY KEY,
         description text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const from = (await currentVersion(client)) ?? 0;
    if (from > latest) throw tooNew(from, latest, where);
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= from) continue;
      for (const statement of m.statements) await client.query(statement);
      await client.query(`INSERT INTO ${SCHEMA}.schema_version (version, description) VALUES ($1, $2)`, [m.version, m.description]);
    }
    await client.query("COMMIT");
    return { from, to: latest };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
