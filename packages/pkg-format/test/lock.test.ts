import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
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
