/**
 * One run per instance: a concurrent install exits 7 naming the holder;
 * `kill -9` mid-install leaves an instance that status reports as
 * interrupted and that the next install recovers.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsSandbox, exists, instanceDir, readJson, runInfra, type Sandbox, startInfra, stubCalls, waitFor } from "./helpers.js";

let sb: Sandbox;
let tgz: string;
let overrides: string;

beforeAll(async () => {
  ({ sb, tgz, overrides } = await awsSandbox());
});
afterAll(async () => sb.cleanup());

interface Record {
  status: string;
  current?: { runId: string; pid: number };
  runs: { id: string; status: string; exitCode?: number }[];
}

async function applyStarted(): Promise<boolean> {
  return (await stubCalls(sb)).some((c) => c.argv[0] === "apply");
}

describe("locks and interrupted runs", () => {
  it("a second concurrent install on the same instance exits 7 naming the holder", async () => {
    const first = startInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", overrides, "--instance", "locked", "--yes"], {
      env: { STUB_TOFU_SLEEP_MS: "2500" },
    });
    await waitFor(applyStarted, "the first install to reach apply");
    const second = await runInfra(sb, [
      "profile",
      "install",
      "--tgz",
      tgz,
      "--env-file",
      overrides,
      "--instance",
      "locked",
      "--yes",
      "--json",
    ]);
    expect(second.code).toBe(7);
    expect(second.stderr).toContain(`another run holds the lock (pid ${first.child.pid}`);
    expect(JSON.parse(second.stdout)).toMatchObject({ ok: false, error: { code: "E_LOCKED", holder: { pid: first.child.pid } } });
    // status while it runs: running, with the current run.
    const status = JSON.parse((await runInfra(sb, ["profile", "status", "--instance", "locked", "--json"])).stdout) as {
      status: string;
      currentRun: { pid: number };
    };
    expect(status.status).toBe("running");
    expect(status.currentRun.pid).toBe(first.child.pid);
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    // Another instance of the same profile is not blocked by it (checked after: separate lock files).
    expect(await exists(join(instanceDir(sb, "locked"), "lock"))).toBe(false);
  });

  it("kill -9 during install: status says interrupted, the next install recovers", async () => {
    const victim = startInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", overrides, "--instance", "killed", "--yes"], {
      env: { STUB_TOFU_SLEEP_MS: "1500" },
    });
    const dir = instanceDir(sb, "killed");
    await waitFor(
      async () => (await stubCalls(sb)).some((c) => c.argv[0] === "apply" && c.env.TF_DATA_DIR?.startsWith(dir) === true),
      "the install to reach apply",
    );
    victim.child.kill("SIGKILL");
    await victim.done;
    // The orphaned tool finishes on its own (its own process group); wait for its state write so the test is deterministic.
    await waitFor(() => exists(join(dir, "engine/terraform.tfstate")), "the orphaned apply to finish");

    const before = await readJson<Record>(join(dir, "instance.json"));
    expect(before.status).toBe("running");
    const killedRun = before.current?.runId;
    expect(killedRun).toBeDefined();

    const status = await runInfra(sb, ["profile", "status", "--instance", "killed", "--json"]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: "interrupted",
      interruptedRun: killedRun,
      lastRun: { status: "interrupted" },
    });
    const human = await runInfra(sb, ["profile", "status", "--instance", "killed"]);
    expect(human.stdout).toContain("status:    interrupted");

    // plan does not take over the stale lock without --break-lock.
    const plan = await runInfra(sb, ["profile", "plan", "--tgz", tgz, "--env-file", overrides, "--instance", "killed"]);
    expect(plan.code).toBe(7);
    expect(plan.stderr).toContain("no longer alive");
    expect(plan.stderr).toContain("--break-lock");

    const recover = await runInfra(sb, [
      "profile",
      "install",
      "--tgz",
      tgz,
      "--env-file",
      overrides,
      "--instance",
      "killed",
      "--yes",
      "--json",
    ]);
    expect(recover.code, recover.stderr).toBe(0);
    expect(JSON.parse(recover.stdout)).toMatchObject({ status: "installed", recoveredFrom: killedRun });
    expect(recover.stderr).toContain("taking over its lock");

    const after = await readJson<Record>(join(dir, "instance.json"));
    expect(after.status).toBe("installed");
    expect(after.current).toBeUndefined();
    expect(after.runs.find((r) => r.id === killedRun)).toMatchObject({ status: "interrupted", exitCode: 130 });
    const events = (await import("node:fs/promises")).readFile(join(dir, "runs", `${killedRun}.ndjson`), "utf8");
    const lines = (await events)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; status?: string });
    expect(lines[0]?.event).toBe("command.started");
    expect(lines.at(-1)).toMatchObject({ event: "command.completed", status: "interrupted" });
  });

  it("--break-lock takes over a stale lock for plan", async () => {
    const dir = instanceDir(sb, "killed");
    // Fake a stale holder: a pid that cannot be alive on this host.
    const { hostname } = await import("node:os");
    await writeFile(
      join(dir, "lock"),
      `${JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), startedAt: "2026-01-01T00:00:00Z" })}\n`,
    );
    const without = await runInfra(sb, ["profile", "plan", "--tgz", tgz, "--env-file", overrides, "--instance", "killed"]);
    expect(without.code).toBe(7);
    const withFlag = await runInfra(sb, ["profile", "plan", "--tgz", tgz, "--env-file", overrides, "--instance", "killed", "--break-lock"]);
    expect(withFlag.code, withFlag.stderr).toBe(0);
  });
});

describe("Ctrl-C", () => {
  it("SIGINT during apply kills the tool, exits 130 and leaves the instance interrupted; install then proceeds", async () => {
    const run = startInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", overrides, "--instance", "sigint", "--yes"], {
      env: { STUB_TOFU_SLEEP_MS: "20000" },
    });
    const dir = instanceDir(sb, "sigint");
    await waitFor(
      async () => (await stubCalls(sb)).some((c) => c.argv[0] === "apply" && c.env.TF_DATA_DIR?.startsWith(dir) === true),
      "apply to start",
    );
    run.child.kill("SIGINT");
    const done = await run.done;
    expect(done.code).toBe(130);
    expect(done.stderr).toContain("apply was interrupted");
    const record = await readJson<Record>(join(dir, "instance.json"));
    expect(record.status).toBe("interrupted");
    expect(await exists(join(dir, "lock"))).toBe(false);
    // The tool was killed with its group: it never wrote state.
    expect(await exists(join(dir, "engine/terraform.tfstate"))).toBe(false);
    const again = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", overrides, "--instance", "sigint", "--yes"]);
    expect(again.code, again.stderr).toBe(0);
  });
});
