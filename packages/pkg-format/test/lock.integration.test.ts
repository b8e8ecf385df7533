import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockedError } from "../src/errors.js";
import { acquireLock, breakLock, inspectLock } from "../src/host/lock.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pk3s-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function deadPid(): number {
  const r = spawnSync("bash", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

describe("acquireLock", () => {
  it("records the holder and refuses a second holder with exit 7 naming it", async () => {
    const file = join(dir, "x.lock");
    const lock = await acquireLock(file, { command: "install" });
    const content = JSON.parse(await readFile(file, "utf8"));
    expect(content).toMatchObject({ pid: process.pid, host: hostname(), command: "install" });
    const err = await acquireLock(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect((err as LockedError).exitCode).toBe(7);
    expect((err as LockedError).message).toContain(`pid ${process.pid} on ${hostname()}`);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    const again = await acquireLock(file);
    await again.release();
  });

  it("detects a stale lock, refuses it by default and takes it over with breakLock", async () => {
    const file = join(dir, "x.lock");
    await writeFile(file, JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: "2026-01-01T00:00:00Z" }));
    expect((await inspectLock(file)).state).toBe("stale");
    const err = (await acquireLock(file).catch((e: unknown) => e)) as LockedError;
    expect(err.message).toContain("no longer alive");
    expect(err.hint).toContain("--break-lock");
    const lock = await acquireLock(file, { breakLock: true });
    expect(lock.holder.pid).toBe(process.pid);
    await lock.release();
  });

  it("never breaks a live holder, even with breakLock", async () => {
    const file = join(dir, "x.lock");
    const lock = await acquireLock(file);
    await expect(acquireLock(file, { breakLock: true })).rejects.toBeInstanceOf(LockedError);
    await lock.release();
  });

  it("breakLock removes any lock and reports who held it", async () => {
    const file = join(dir, "x.lock");
    await acquireLock(file, { command: "destroy" });
    expect(await breakLock(file)).toMatchObject({ command: "destroy" });
    expect((await inspectLock(file)).state).toBe("free");
  });
});

describe("stale-lock takeover by many concurrent runs", () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const TAKER = join(here, "helpers/lock-taker.mjs");
  const BARRIER = resolve(here, "../../../fixtures/lock-race-barrier.mjs");
  const TAKERS = 20;

  it("20 processes that all read the same stale holder: exactly one takes the lock, the others exit 7", async () => {
    const file = join(dir, "x.lock");
    const race = join(dir, "race");
    await mkdir(race);
    const releaseFile = join(dir, "release");
    await writeFile(file, JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: "2026-01-01T00:00:00Z" }));
    const env = {
      ...process.env,
      NODE_OPTIONS: `--import=${BARRIER}`,
      LOCK_RACE_DIR: race,
      LOCK_RACE_FILE: file,
      LOCK_RACE_PARTIES: String(TAKERS),
    };
    const takers = Array.from({ length: TAKERS }, () => {
      const child = spawn(process.execPath, [TAKER, file, releaseFile], { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
      const done = new Promise<{ code: number | null; out: string }>((r) => child.on("close", (code) => r({ code, out })));
      return { child, done, output: () => out };
    });
    // Everyone but the winner gives up while the winner still holds the lock.
    const deadline = Date.now() + 60_000;
    while (takers.filter((t) => t.child.exitCode !== null).length < TAKERS - 1 && Date.now() < deadline) {
      if (takers.filter((t) => t.output().startsWith("won")).length > 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const winners = takers.filter((t) => t.output().startsWith("won"));
    await writeFile(releaseFile, "");
    const results = await Promise.all(takers.map((t) => t.done));
    expect(winners.length, results.map((r) => r.out).join("")).toBe(1);
    const losers = results.filter((r) => !r.out.startsWith("won"));
    expect(losers).toHaveLength(TAKERS - 1);
    for (const l of losers) {
      expect(l.code, l.out).toBe(7);
      expect(l.out).toMatch(/^E_LOCKED: (another run holds the lock \(pid \d+|another run is taking over the stale lock)/);
    }
    // Every taker really met the stale holder, and nothing is left behind.
    expect((await readdir(race)).length).toBe(TAKERS);
    expect((await readdir(dir)).sort()).toEqual(["race", "release"]);
  });
});
