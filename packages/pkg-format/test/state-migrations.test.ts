/**
 * The PostgreSQL backend's schema versions (real PostgreSQL, a private
 * cluster): a new database is brought to v1, a fake v2 is applied on top by
 * the same runner, a failing migration leaves nothing half-applied, a build
 * that knows fewer versions refuses the database (exit 4), and two first
 * runs at once do not trip over each other.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresSkipReason, startPostgres, type TestPostgres } from "../../../fixtures/postgres.js";
import { ValidationError } from "../src/errors.js";
import { openPostgresBackend } from "../src/state/postgres-backend.js";
import { MIGRATIONS, type Migration } from "../src/state/postgres-migrations.js";

let pg: TestPostgres;

const FAKE_V2: Migration = {
  version: 2,
  description: "fake v2 (test only)",
  statements: ["ALTER TABLE pk3s.documents ADD COLUMN fake_v2 text", "CREATE INDEX documents_fake_v2 ON pk3s.documents (fake_v2)"],
};

async function versions(url: string): Promise<string> {
  return pg.sql(url, "SELECT string_agg(version::text || ':' || description, ',' ORDER BY version) FROM pk3s.schema_version");
}

describe.skipIf(postgresSkipReason !== undefined)("PostgreSQL state schema migrations", () => {
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => pg?.stop());

  it("a new database gets v1; opening it again changes nothing", async () => {
    const url = await pg.createDatabase();
    await (await openPostgresBackend(url)).close();
    expect(await versions(url)).toBe("1:documents, blobs and lock holders");
    expect(await pg.sql(url, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'pk3s'")).toBe(
      "blobs,documents,lock_holders,schema_version",
    );
    await (await openPostgresBackend(url)).close();
    expect(await versions(url)).toBe("1:documents, blobs and lock holders");
  });

  it("the runner applies a fake v2 on top of v1, and a build that only knows v1 then refuses the database (exit 4)", async () => {
    const url = await pg.createDatabase();
    await (await openPostgresBackend(url)).close();
    await (await openPostgresBackend(url, {}, [...MIGRATIONS, FAKE_V2])).close();
    expect(await versions(url)).toBe("1:documents, blobs and lock holders,2:fake v2 (test only)");
    expect(
      await pg.sql(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'documents' AND column_name = 'fake_v2'"),
    ).toBe("1");

    const err = await openPostgresBackend(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).exitCode).toBe(4);
    expect((err as ValidationError).message).toContain("has schema version 2; this build knows versions up to 1");
    expect((err as ValidationError).message).not.toContain(pg.password);
    expect((err as ValidationError).message).toContain("****");
  });

  it("a new database migrated straight to v2 gets both versions in order", async () => {
    const url = await pg.createDatabase();
    await (await openPostgresBackend(url, {}, [FAKE_V2, ...MIGRATIONS])).close();
    expect(await versions(url)).toBe("1:documents, blobs and lock holders,2:fake v2 (test only)");
  });

  it("a migration that fails half-way leaves the database at the version it had, with nothing of it applied", async () => {
    const url = await pg.createDatabase();
    await (await openPostgresBackend(url)).close();
    const broken: Migration = { ...FAKE_V2, statements: [FAKE_V2.statements[0] ?? "", "CREATE TABLE pk3s.documents (x int)"] };
    const err = await openPostgresBackend(url, {}, [...MIGRATIONS, broken]).catch((e: unknown) => e);
    expect((err as Error).message).toContain('relation "documents" already exists');
    expect(await versions(url)).toBe("1:documents, blobs and lock holders");
    expect(
      await pg.sql(url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'documents' AND column_name = 'fake_v2'"),
    ).toBe("0");
    // The good build still opens it.
    await (await openPostgresBackend(url)).close();
  });

  it("several first runs at once on a new database: one migrates, the others wait and find it done", async () => {
    const url = await pg.createDatabase();
    const opened = await Promise.all([1, 2, 3, 4].map(() => openPostgresBackend(url)));
    for (const b of opened) await b.close();
    expect(await versions(url)).toBe("1:documents, blobs and lock holders");
  });
});
