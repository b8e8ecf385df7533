/**
 * One conformance suite for both state backends (DESIGN.md §5): the same
 * tests, through the runtimes' own stores (Infra's instance-store, Core's
 * records/store), against local files and against a real PostgreSQL (a
 * private cluster started for this file). Instances, their run summaries,
 * install records with kept packages, locks (exit 7 naming the holder,
 * release), atomicity (a failed transaction leaves nothing written), damaged
 * documents (exit 4 naming the field) and interrupted-run detection after
 * kill -9 of the holder.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { LockedError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { closeStateBackend, stateBackend } from "@productive-k3s/pkg-format/state-backend";
import { chooseStateBackend } from "@productive-k3s/pkg-format/state-selection";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresSkipReason, startPostgres, type TestPostgres } from "../../../fixtures/postgres.js";
import type { InstallRecord } from "../../core/src/records/schema.js";
import {
  clusterStore,
  keptPackage,
  listRecords,
  RECORDS,
  readRecord,
  removeRecord,
  stageKeptPackage,
  writeRecord,
} from "../../core/src/records/store.js";
import { effectiveStatus } from "../src/operations/status.js";
import {
  ensureInstanceDirs,
  INSTANCES,
  type InstanceRecord,
  inspectInstanceLock,
  instancePaths,
  listInstanceNames,
  lockInstanceState,
  PACKAGE_COPY,
  packageCopyFile,
  purgeInstance,
  readInstance,
  writeInstance,
} from "../src/state/instance-store.js";
import { repoRoot } from "./helpers.js";

const DIGEST = `sha256:${"a".repeat(64)}`;

function instance(name: string, over: Partial<InstanceRecord> = {}): InstanceRecord {
  const now = new Date().toISOString();
  return {
    schemaVersion: 1,
    instance: name,
    profile: { name: "lab", version: "1.0.0", category: "local" },
    digest: DIGEST,
    engine: "opentofu",
    scenario: "lab",
    status: "installed",
    inputs: { REGION: "eu-west-1", ZONE: "b" },
    sensitiveInputs: ["TOKEN"],
    outputs: { zeta: "last", alpha: 1 },
    sensitiveOutputs: [],
    runs: [],
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

function installRecord(name: string, over: Partial<InstallRecord> = {}): InstallRecord {
  const now = new Date().toISOString();
  return {
    schemaVersion: 1,
    name,
    version: "1.2.3",
    digest: DIGEST,
    namespace: name,
    status: "deployed",
    action: "install",
    steps: [],
    runId: "20261121T130501Z-1a2b3c",
    runLog: "/var/log/x.log",
    dependencies: [],
    context: "default",
    installedAt: now,
    updatedAt: now,
    history: [],
    ...over,
  };
}

const cluster = (server: string) =>
  clusterStore({ server, context: "default", clusterId: createHash("sha256").update(server).digest("hex").slice(0, 16) });

/** A process that takes an instance lock through the built store and waits (for kill -9 and cross-process checks). */
function holdLockInChild(env: Record<string, string>, instanceName: string): { child: ChildProcess; ready: Promise<void> } {
  const store = join(repoRoot, "packages/infra/dist/state/instance-store.js");
  const script = `
    const s = await import(${JSON.stringify(store)});
    const paths = s.instancePaths(${JSON.stringify(instanceName)});
    await s.ensureInstanceDirs(paths);
    await s.lockInstanceState(paths, { command: "profile install (child)" });
    process.stdout.write("locked\\n");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd: join(repoRoot, "packages/infra"),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => c.toString().includes("locked") && resolve());
    child.once("exit", (code) => reject(new Error(`lock holder exited ${code}: ${err}`)));
  });
  return { child, ready };
}

interface Flavour {
  name: "local" | "postgres";
  skip: string | undefined;
  /** The backend spec for this run, and the env a child process needs for the same state. */
  setUp(stateDir: string): Promise<{ spec: string; env: Record<string, string> }>;
  /** Store `raw` as the instance record of `name`, bypassing validation (a damaged document). */
  corruptInstance(name: string, raw: unknown): Promise<void>;
}

let pg: TestPostgres | undefined;
let pgUrl = "";

const flavours: Flavour[] = [
  {
    name: "local",
    skip: undefined,
    setUp: async () => ({ spec: "local", env: {} }),
    corruptInstance: async (name, raw) => {
      await writeFile((await stateBackend()).describe(INSTANCES, { scope: "", name }), JSON.stringify(raw));
    },
  },
  {
    name: "postgres",
    skip: postgresSkipReason,
    setUp: async () => {
      pg ??= await startPostgres();
      pgUrl = await pg.createDatabase();
      return { spec: pgUrl, env: { PK3S_STATE_BACKEND: pgUrl } };
    },
    corruptInstance: async (name, raw) => {
      const body = JSON.stringify(raw).replace(/'/g, "''");
      await pg?.sql(pgUrl, `UPDATE pk3s.documents SET body = '${body}'::json WHERE collection = 'infra.instances' AND name = '${name}'`);
    },
  },
];

afterAll(async () => {
  await closeStateBackend();
  await pg?.stop();
});

describe.each(flavours)("state backend conformance: $name", (flavour) => {
  let dir: string;
  let childEnv: Record<string, string>;

  beforeAll(async () => {
    if (flavour.skip !== undefined) return;
    dir = await mkdtemp(join(tmpdir(), `pk3s-conformance-${flavour.name}-`));
    process.env.PK3S_STATE_DIR = join(dir, "state");
    process.env.PK3S_CACHE_DIR = join(dir, "cache");
    await closeStateBackend();
    const { spec, env } = await flavour.setUp(dir);
    chooseStateBackend(spec);
    childEnv = { PK3S_STATE_DIR: join(dir, "state"), PK3S_CACHE_DIR: join(dir, "cache-child"), ...env };
    expect((await stateBackend()).kind).toBe(flavour.name);
  });
  afterAll(async () => {
    if (flavour.skip !== undefined) return;
    await closeStateBackend();
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(flavour.skip !== undefined)("instances: create with the package copy, read back exactly, update, list, purge", async () => {
    const paths = instancePaths("staging");
    await ensureInstanceDirs(paths);
    const pkg = join(dir, "pkg.tgz");
    await writeFile(pkg, "package bytes");
    expect(await readInstance(paths)).toBeUndefined();
    await writeInstance(paths, instance("staging"), { packageFrom: pkg });

    const read = await readInstance(paths);
    expect(read).toMatchObject({ instance: "staging", status: "installed", inputs: { REGION: "eu-west-1" } });
    // Key order survives the round trip (outputs are shown in the order the scenario gave them).
    expect(Object.keys(read?.outputs ?? {})).toEqual(["zeta", "alpha"]);
    const copy = await packageCopyFile(paths);
    expect(copy).toBeDefined();
    expect(await readFile(copy ?? "", "utf8")).toBe("package bytes");

    await writeInstance(paths, { ...instance("staging"), status: "destroyed", outputs: {} });
    expect(await readInstance(paths)).toMatchObject({ status: "destroyed", outputs: {} });
    // The package copy is kept when an update does not replace it.
    expect(await readFile((await packageCopyFile(paths)) ?? "", "utf8")).toBe("package bytes");

    await writeInstance(instancePaths("prod"), instance("prod"));
    expect(await listInstanceNames()).toEqual(expect.arrayContaining(["prod", "staging"]));

    await purgeInstance(paths);
    expect(await readInstance(paths)).toBeUndefined();
    expect(await packageCopyFile(paths)).toBeUndefined();
    expect(await listInstanceNames()).not.toContain("staging");
  });

  it.skipIf(flavour.skip !== undefined)(
    "run records: the runs of an instance keep their order and fields, the last 100 are kept",
    async () => {
      const paths = instancePaths("runs");
      const runs = Array.from({ length: 105 }, (_, i) => ({
        id: `run-${String(i).padStart(3, "0")}`,
        action: "install" as const,
        startedAt: new Date(2026, 0, 1, 0, i).toISOString(),
        endedAt: new Date(2026, 0, 1, 0, i, 30).toISOString(),
        exitCode: i % 2,
        status: i % 2 === 0 ? ("succeeded" as const) : ("failed" as const),
        record: `/runs/run-${i}.ndjson`,
        log: `/runs/run-${i}.log`,
        host: "ci-runner-7",
      }));
      await writeInstance(paths, instance("runs", { runs }));
      const read = await readInstance(paths);
      expect(read?.runs).toHaveLength(100);
      expect(read?.runs[0]?.id).toBe("run-005");
      expect(read?.runs.at(-1)).toEqual(runs.at(-1));
    },
  );

  it.skipIf(flavour.skip !== undefined)(
    "install records: written with their kept package, per cluster, listed, removed with it",
    async () => {
      const a = cluster("https://a.example:6443");
      const b = cluster("https://b.example:6443");
      const staged = await stageKeptPackage(a, "longhorn", await writeTemp(dir, "longhorn.tgz", "longhorn 1.2.3"));
      await writeRecord(a, installRecord("longhorn"), { keep: staged });
      await writeRecord(a, installRecord("cert-manager", { version: "1.0.0" }));
      await writeRecord(b, installRecord("longhorn", { version: "2.0.0" }));

      expect(await readRecord(a, "longhorn")).toMatchObject({ name: "longhorn", version: "1.2.3", status: "deployed" });
      expect((await listRecords(a)).map((r) => `${r.name}@${r.version}`)).toEqual(["cert-manager@1.0.0", "longhorn@1.2.3"]);
      expect((await listRecords(b)).map((r) => `${r.name}@${r.version}`)).toEqual(["longhorn@2.0.0"]);
      expect(await readFile((await keptPackage(a, "longhorn")) ?? "", "utf8")).toBe("longhorn 1.2.3");
      expect(await keptPackage(b, "longhorn")).toBeUndefined();

      await removeRecord(a, "longhorn");
      expect(await readRecord(a, "longhorn")).toBeUndefined();
      expect(await keptPackage(a, "longhorn")).toBeUndefined();
      expect(await readRecord(b, "longhorn")).toBeDefined();
    },
  );

  it.skipIf(flavour.skip !== undefined)("atomicity: a transaction that fails leaves nothing of it written", async () => {
    const backend = await stateBackend();
    const a = cluster("https://atomic.example:6443");
    const paths = instancePaths("atomic");
    const pkg = await writeTemp(dir, "atomic.tgz", "atomic");
    // The body fails after two writes and a blob.
    const failed = await backend
      .transaction(async (tx) => {
        await tx.write(INSTANCES, { scope: "", name: "atomic" }, instance("atomic"));
        await tx.write(RECORDS, { scope: a.target.clusterId, name: "traefik" }, installRecord("traefik"));
        await tx.putBlob(PACKAGE_COPY, { scope: "", name: "atomic" }, pkg);
        throw new Error("step failed");
      })
      .catch((e: unknown) => e);
    expect((failed as Error).message).toBe("step failed");
    expect(await readInstance(paths)).toBeUndefined();
    expect(await readRecord(a, "traefik")).toBeUndefined();
    expect(await packageCopyFile(paths)).toBeUndefined();

    // A document that breaks its schema is refused before anything of the transaction is written.
    await writeInstance(paths, instance("atomic", { status: "installed" }));
    const invalid = await writeInstance(paths, instance("atomic", { status: "running", digest: "not-a-digest" })).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(Error);
    expect(await readInstance(paths)).toMatchObject({ status: "installed", digest: DIGEST });
  });

  it.skipIf(flavour.skip !== undefined)("a damaged stored record is exit 4 naming where it is and the field", async () => {
    const paths = instancePaths("damaged");
    await writeInstance(paths, instance("damaged"));
    await flavour.corruptInstance("damaged", { ...instance("damaged"), status: "bogus" });
    const err = await readInstance(paths).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const where = (await stateBackend()).describe(INSTANCES, { scope: "", name: "damaged" });
    expect((err as ValidationError).exitCode).toBe(4);
    expect((err as ValidationError).message).toBe(`instance record ${where} is damaged`);
    expect((err as ValidationError).problems.map((p) => p.path)).toEqual(["status"]);
    if (pg !== undefined) expect(where).not.toContain(pg.password);
  });

  it.skipIf(flavour.skip !== undefined)("locks: one holder; a second gets exit 7 naming it; released, it can be taken again", async () => {
    const paths = instancePaths("locked");
    await ensureInstanceDirs(paths);
    expect(await inspectInstanceLock(paths)).toEqual({ state: "free" });
    const lock = await lockInstanceState(paths, { command: "profile install" });
    const held = await inspectInstanceLock(paths);
    expect(held).toMatchObject({ state: "held", holder: { pid: process.pid, host: hostname(), command: "profile install" } });

    const second = await lockInstanceState(paths, { command: "profile plan" }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(LockedError);
    expect((second as LockedError).exitCode).toBe(7);
    expect((second as LockedError).message).toContain(
      `another run holds the lock (pid ${process.pid} on ${hostname()} running "profile install"`,
    );
    // Another instance is not blocked.
    const other = await lockInstanceState(instancePaths("unrelated"), {});
    await other.release();

    await lock.release();
    expect(await inspectInstanceLock(paths)).toEqual({ state: "free" });
    const again = await lockInstanceState(paths, {});
    await again.release();
  });

  it.skipIf(flavour.skip !== undefined)(
    "interrupted runs: another process holds the lock (exit 7 names it); after its kill -9 the run reads as interrupted",
    async () => {
      const paths = instancePaths("killed");
      await ensureInstanceDirs(paths);
      const running = instance("killed", {
        status: "running",
        current: { runId: "run-1", action: "install", pid: 1, host: hostname(), startedAt: new Date().toISOString() },
      });
      await writeInstance(paths, running);
      const { child, ready } = holdLockInChild(childEnv, "killed");
      await ready;
      const err = await lockInstanceState(paths, {}).catch((e: unknown) => e);
      expect((err as LockedError).exitCode).toBe(7);
      expect((err as LockedError).holder).toMatchObject({ pid: child.pid, host: hostname(), command: "profile install (child)" });
      expect(await effectiveStatus("killed", running)).toBe("running");

      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await gone;
      // Local: a lock file whose holder is dead (stale, taken over only when asked). PostgreSQL: the server
      // freed the lock with the session (free at once; there is no stale state).
      const state = await waitForLockNotHeld(paths);
      expect(state).toBe(flavour.name === "local" ? "stale" : "free");
      expect(await effectiveStatus("killed", (await readInstance(paths)) ?? running)).toBe("interrupted");
      const takeOver = await lockInstanceState(paths, { breakLock: flavour.name === "local" });
      await takeOver.release();
    },
  );
});

async function writeTemp(dir: string, name: string, content: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

/** The server notices the dead session as soon as its socket closes; bounded wait. */
async function waitForLockNotHeld(paths: ReturnType<typeof instancePaths>): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = await inspectInstanceLock(paths);
    if (s.state !== "held" || Date.now() > deadline) return s.state;
    await new Promise((r) => setTimeout(r, 50));
  }
}
