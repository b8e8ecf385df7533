/**
 * Stale-lock takeover is atomic: several `profile install --break-lock` runs
 * that all find the same stale lock (dead pid) cannot all take it. Exactly
 * one proceeds, the others exit 7, and no run record is lost from
 * instance.json. The runs are lined up on the stale holder by a preload
 * (fixtures/lock-race-barrier.mjs) that pauses each right after it read the
 * lock until all have, the worst case of the race.
 */
import { spawnSync } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsSandbox, exists, fixturesDir, instanceDir, readJson, runInfra, type Sandbox, startInfra, stubCalls } from "./helpers.js";

const RUNS = 6;

let sb: Sandbox;
let tgz: string;
let overrides: string;

beforeAll(async () => {
  ({ sb, tgz, overrides } = await awsSandbox());
});
afterAll(async () => sb.cleanup());

interface InstanceRecord {
  status: string;
  runs: { id: string; status: string; record: string }[];
}

describe("stale lock, several --break-lock runs at once", () => {
  it("exactly one run proceeds, the others exit 7, every run record survives", async () => {
    const install = ["profile", "install", "--tgz", tgz, "--env-file", overrides, "--instance", "race", "--yes"];
    const first = await runInfra(sb, install);
    expect(first.code, first.stderr).toBe(0);
    const dir = instanceDir(sb, "race");
    const lock = join(dir, "lock");
    const deadPid = Number(spawnSync("bash", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim());
    await writeFile(lock, `${JSON.stringify({ pid: deadPid, host: hostname(), startedAt: "2026-01-01T00:00:00Z" })}\n`);
    const race = join(sb.dir, "race");
    await mkdir(race);
    const appliesBefore = (await stubCalls(sb)).filter((c) => c.argv[0] === "apply").length;

    const runs = Array.from({ length: RUNS }, () =>
      startInfra(sb, [...install, "--break-lock", "--json"], {
        env: {
          NODE_OPTIONS: `--import=${join(fixturesDir, "lock-race-barrier.mjs")}`,
          LOCK_RACE_DIR: race,
          LOCK_RACE_FILE: lock,
          LOCK_RACE_PARTIES: String(RUNS),
          // The winner holds the lock well past the moment the others decide.
          STUB_TOFU_SLEEP_MS: "3000",
        },
      }),
    );
    const results = await Promise.all(runs.map((r) => r.done));
    const detail = results.map((r) => `${r.code}: ${r.stderr.split("\n").slice(-3).join(" | ")}`).join("\n");
    // Every run met the stale holder.
    expect((await readdir(race)).filter((f) => f.startsWith("arrived-"))).toHaveLength(RUNS);
    expect(
      results.filter((r) => r.code === 0),
      detail,
    ).toHaveLength(1);
    for (const r of results.filter((x) => x.code !== 0)) {
      expect(r.code, detail).toBe(7);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: "E_LOCKED" } });
    }
    // One apply ran, and instance.json holds both runs: the first install and the winner.
    expect((await stubCalls(sb)).filter((c) => c.argv[0] === "apply").length - appliesBefore).toBe(1);
    const record = await readJson<InstanceRecord>(join(dir, "instance.json"));
    expect(record.status).toBe("installed");
    expect(record.runs.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
    for (const r of record.runs) expect(await exists(r.record)).toBe(true);
    expect((await readdir(join(dir, "runs"))).filter((f) => f.endsWith(".ndjson"))).toHaveLength(2);
    expect(await exists(lock)).toBe(false);
    expect((await readdir(dir)).filter((f) => f.includes("takeover"))).toEqual([]);
  });
});
