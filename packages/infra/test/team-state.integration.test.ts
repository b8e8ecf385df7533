/**
 * Team state (DESIGN.md §5, issue 18 item 4): two "operators" — separate
 * HOME, state, cache and config directories — share one real PostgreSQL
 * (a private cluster started for this file) through PK3S_STATE_BACKEND, and
 * run the built binary.
 *
 * - A concurrent install of one instance: exactly one run, one exit 7 naming
 *   the holder.
 * - The second operator's status/outputs/list see the first one's instance.
 * - kill -9 of the holder frees the lock at once: status says interrupted,
 *   and the other operator's install proceeds without --break-lock.
 * - OpenTofu gets the same database as its pg backend: override file,
 *   -backend-config file, schema per instance, the password only as
 *   PGPASSWORD in its environment (asserted with the stub tofu).
 * - The password is never printed, stored in a file, or put on a child's argv.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresSkipReason, startPostgres, type TestPostgres } from "../../../fixtures/postgres.js";
import { tofuSchemaName } from "../src/engines/opentofu.js";
import {
  buildFixture,
  type CliResult,
  exists,
  filesContaining,
  runInfra,
  type Sandbox,
  type StubCall,
  sandbox,
  startInfra,
  stubCalls,
  waitFor,
} from "./helpers.js";

let pg: TestPostgres;
let url: string;
let alice: Sandbox;
let bob: Sandbox;
let tgz: string;
let base: Sandbox;
let aliceEnv: string;
let sharedTofuState: string;
let bobEnv: string;
const outputs: CliResult[] = [];

async function operator(name: string, sharedTofuState: string): Promise<Sandbox> {
  const sb = await sandbox();
  sb.env = {
    ...sb.env,
    HOME: join(sb.dir, "home"),
    PK3S_STATE_BACKEND: url,
    STUB_TOFU_PG_STATE_DIR: sharedTofuState,
    PK3S_STUB_ENV_KEYS: "PGPASSWORD,PG_CONN_STR,PGUSER",
    PK3S_CORRELATION_ID: name,
  };
  await mkdir(sb.env.HOME ?? "", { recursive: true });
  return sb;
}

async function run(sb: Sandbox, args: string[], env?: Record<string, string | undefined>): Promise<CliResult> {
  const r = await runInfra(sb, args, env === undefined ? {} : { env });
  outputs.push(r);
  return r;
}

const install = (envFile: string, instance: string) => [
  "profile",
  "install",
  "--tgz",
  tgz,
  "--env-file",
  envFile,
  "--instance",
  instance,
  "--yes",
  "--json",
];

const applyStarted = (sb: Sandbox, instance: string) => async () =>
  (await stubCalls(sb)).some((c) => c.argv[0] === "apply" && c.env.PK3S_INSTANCE === instance);

describe.skipIf(postgresSkipReason !== undefined)("team state in PostgreSQL: two operators, one database", () => {
  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase("team");
    base = await sandbox();
    sharedTofuState = join(base.dir, "tofu-pg-state");
    await mkdir(sharedTofuState);
    alice = await operator("alice", sharedTofuState);
    bob = await operator("bob", sharedTofuState);
    tgz = await buildFixture(base, "aws-single-node-basic");
    aliceEnv = join(alice.dir, "aws.env");
    bobEnv = join(bob.dir, "aws.env");
    await writeFile(aliceEnv, "AWS_KEY_PAIR_NAME=alice-kp\nAWS_SSH_KEY_PATH=/home/alice/.ssh/k.pem\n");
    await writeFile(bobEnv, "AWS_KEY_PAIR_NAME=bob-kp\nAWS_SSH_KEY_PATH=/home/bob/.ssh/k.pem\n");
  });
  afterAll(async () => {
    await alice?.cleanup();
    await bob?.cleanup();
    await base?.cleanup();
    await pg?.stop();
  });

  it("a concurrent install of one instance: exactly one run, and one exit 7 naming the holder", async () => {
    const first = startInfra(alice, install(aliceEnv, "shared"), { env: { STUB_TOFU_SLEEP_MS: "2500" } });
    await waitFor(applyStarted(alice, "shared"), "alice's install to reach apply");
    const second = await run(bob, install(bobEnv, "shared"));
    expect(second.code, second.stderr).toBe(7);
    expect(second.stderr).toContain(`another run holds the lock (pid ${first.child.pid} on ${hostname()} running "profile install"`);
    const error = JSON.parse(second.stdout).error as { code: string; holder: { pid: number }; where: string };
    expect(error).toMatchObject({ code: "E_LOCKED", holder: { pid: first.child.pid } });
    expect(error.where).toBe(`postgres://pk3s:****@127.0.0.1:${pg.port}/team (lock infra/instances/shared)`);
    // Bob never reached his engine.
    expect(await stubCalls(bob)).toEqual([]);

    const done = await first.done;
    outputs.push(done);
    expect(done.code, done.stderr).toBe(0);

    const status = await run(bob, ["profile", "status", "--instance", "shared", "--json", "--no-check"]);
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as { status: string; runs: number; lastRun: { status: string; host: string } };
    expect(s).toMatchObject({ status: "installed", runs: 1, lastRun: { status: "succeeded", host: hostname() } });
  });

  it("the second operator's status, outputs and list see the first one's instance and outputs", async () => {
    const status = await run(bob, ["profile", "status", "--instance", "shared", "--json", "--no-check"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      instance: "shared",
      profile: "aws-single-node-basic",
      inputs: { AWS_KEY_PAIR_NAME: "alice-kp" },
      outputs: { region: "us-east-1", ssh_user: "ubuntu", k3s_token: "***" },
      sensitiveOutputs: ["k3s_token"],
    });
    const list = await run(bob, ["profile", "list", "--json"]);
    expect(JSON.parse(list.stdout).instances).toEqual([expect.objectContaining({ instance: "shared", status: "installed" })]);

    // Sensitive outputs stay on the machine that produced them: alice has hers, bob only the name.
    const aliceOut = await run(alice, ["profile", "outputs", "--instance", "shared", "--show-sensitive", "--json"]);
    expect(JSON.parse(aliceOut.stdout).outputs.k3s_token).toBe("stub-k3s-token");
    const bobOut = await run(bob, ["profile", "outputs", "--instance", "shared", "--show-sensitive", "--json"]);
    expect(bobOut.code, bobOut.stderr).toBe(0);
    expect(JSON.parse(bobOut.stdout).outputs).toMatchObject({ region: "us-east-1", k3s_token: null });
    expect(bobOut.stderr).toContain(
      `sensitive outputs are kept only on the machine that installed the instance (${hostname()}): k3s_token`,
    );
    // No instance.json or package.tgz in anybody's state directory: the database has them.
    expect(await filesContaining(alice.state, '"schemaVersion"')).toEqual([]);
  });

  it("OpenTofu gets the same database as its pg backend: override file, backend config file, schema per instance, password in env only", async () => {
    const calls = (await stubCalls(alice)).filter((c) => c.env.PK3S_INSTANCE === "shared");
    const init = calls.find((c) => c.argv[0] === "init") as StubCall & {
      backend: { type: string; config: Record<string, string>; overrides: Record<string, string> };
    };
    const engineDir = join(alice.state, "infra/instances/shared/engine");
    expect(init.argv).toEqual(["init", "-input=false", "-no-color", "-reconfigure", `-backend-config=${engineDir}/pg.tfbackend`]);
    expect(init.backend.type).toBe("pg");
    expect(init.backend.overrides).toEqual({ "pk3s_backend_override.tf": expect.stringContaining('backend "pg" {}') });
    expect(init.backend.config).toEqual({
      conn_str: `postgres://pk3s@127.0.0.1:${pg.port}/team`,
      schema_name: tofuSchemaName("shared"),
    });
    expect(tofuSchemaName("shared")).toMatch(/^pk3s_tofu_shared_[0-9a-f]{8}$/);
    // The backend config file is 0600 and holds no password.
    const config = await readFile(join(engineDir, "pg.tfbackend"), "utf8");
    expect(config).not.toContain(pg.password);
    for (const c of calls) {
      expect(c.env.PGPASSWORD).toBe(pg.password);
      expect(c.env.PK3S_STATE_BACKEND).toBeUndefined();
      expect(c.argv.join(" ")).not.toContain(pg.password);
      expect(c.argv.some((a) => a.startsWith("-state="))).toBe(false);
    }
    expect(calls.map((c) => c.argv[0])).toEqual(["init", "plan", "show", "apply", "output"]);
  });

  it("kill -9 of the holder frees the lock at once: status says interrupted, and the other operator's install proceeds", async () => {
    const victim = startInfra(alice, install(aliceEnv, "killed"), { env: { STUB_TOFU_SLEEP_MS: "4000" } });
    await waitFor(applyStarted(alice, "killed"), "alice's install to reach apply");
    const during = await run(bob, ["profile", "status", "--instance", "killed", "--json", "--no-check"]);
    expect(JSON.parse(during.stdout)).toMatchObject({ status: "running", currentRun: { pid: victim.child.pid } });

    victim.child.kill("SIGKILL");
    await victim.done;
    // The orphaned stub sleeps on; the lock is the database session's, gone with the process.
    const status = await run(bob, ["profile", "status", "--instance", "killed", "--json", "--no-check"]);
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as { status: string; interruptedRun: string; lastRun: { status: string } };
    expect(s.status).toBe("interrupted");
    expect(s.lastRun.status).toBe("interrupted");

    // Let the orphaned stub finish writing its state (its own process group survives the kill), so that the
    // next apply does not race with it.
    const tofuState = join(sharedTofuState, `${tofuSchemaName("killed")}.tfstate`);
    await waitFor(() => exists(tofuState), "the orphaned apply to write its state");
    const recover = await run(bob, install(bobEnv, "killed"));
    expect(recover.code, recover.stderr).toBe(0);
    expect(JSON.parse(recover.stdout)).toMatchObject({ status: "installed", recoveredFrom: s.interruptedRun });
    expect(recover.stderr).not.toContain("taking over its lock");
    const after = JSON.parse((await run(alice, ["profile", "status", "--instance", "killed", "--json", "--no-check"])).stdout) as {
      status: string;
      runs: number;
    };
    expect(after).toMatchObject({ status: "installed", runs: 2 });
  });

  it("the other operator destroys with the scenario state OpenTofu kept in the shared database", async () => {
    const destroy = await run(bob, ["profile", "destroy", "--instance", "shared", "--yes", "--json", "--env-file", bobEnv]);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(destroy.stderr).toContain("Destroy complete! Resources: 1 destroyed.");
    const bobDestroy = (await stubCalls(bob)).find((c) => c.argv[0] === "destroy" && c.env.PK3S_INSTANCE === "shared");
    expect(bobDestroy?.argv).toEqual(["destroy", "-auto-approve", "-input=false", "-no-color"]);
    const status = JSON.parse((await run(alice, ["profile", "status", "--instance", "shared", "--json"])).stdout) as { status: string };
    expect(status.status).toBe("destroyed");
  });

  it("--state-backend picks the database per command; a malformed value is exit 2 without echoing it", async () => {
    const viaFlag = await run(bob, ["profile", "list", "--json", "--state-backend", url], { PK3S_STATE_BACKEND: undefined });
    expect(JSON.parse(viaFlag.stdout).instances.map((i: { instance: string }) => i.instance)).toEqual(["killed", "shared"]);
    const local = await run(bob, ["profile", "list", "--json", "--state-backend", "local"]);
    expect(JSON.parse(local.stdout).instances).toEqual([]);
    const bad = await run(bob, ["profile", "list", "--state-backend", "mysql://root:hunter2@db/x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--state-backend must be "local" or a postgres:// URL (got a mysql: URL)');
    expect(bad.stderr).not.toContain("hunter2");
    const unreachable = await run(bob, ["profile", "list"], { PK3S_STATE_BACKEND: `postgres://pk3s:${pg.password}@127.0.0.1:1/team` });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("state database postgres://pk3s:****@127.0.0.1:1/team");
    expect(unreachable.stderr).not.toContain("internal error");
  });

  it("the password is never printed and never in a file of either operator", async () => {
    for (const r of outputs) {
      expect(r.stdout).not.toContain(pg.password);
      expect(r.stderr).not.toContain(pg.password);
    }
    // (The stub's own log records tofu's environment, PGPASSWORD included, on purpose: it is the test's recorder.)
    for (const sb of [alice, bob]) expect((await filesContaining(sb.dir, pg.password)).filter((f) => f !== sb.stubLog)).toEqual([]);
  });
});
