/**
 * Why the runner (src/process.ts) is not built on execa (docs/design-notes.md,
 * "Process runner: execa"): what execa 9 does where the runner needs
 * something else, shown side by side. execa is a devDependency used only here.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pidRunning } from "../../../fixtures/process-state.js";
import { runProcess } from "../src/host/process.js";

let dir: string;
const strays: number[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pk3s-execa-"));
});
afterEach(async () => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

/**
 * A hook that starts a background job and then hangs in a foreground command
 * (3 s), the shape of an install script stuck on `kubectl wait`.
 */
const hook = (pidFile: string): string[] => ["-c", `sleep 30 >/dev/null 2>&1 & echo $! > ${pidFile}; sleep 3; echo done`];

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
}

describe("execa 9 against the runner's needs", () => {
  it.each([false, true])("on timeout execa kills only the hook's shell: what it started survives (detached: %s)", async (detached) => {
    const pidFile = join(dir, "grandchild.pid");
    const started = Date.now();
    const r = await execa("bash", hook(pidFile), { timeout: 300, forceKillAfterDelay: 200, reject: false, detached });
    expect(r.timedOut).toBe(true);
    // The 300 ms timeout returned only when the orphaned foreground command (3 s) closed execa's pipes.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    const grandchild = Number((await readFile(pidFile, "utf8")).trim());
    strays.push(grandchild);
    await settle();
    expect(pidRunning(grandchild)).toBe(true);
  });

  it("the runner kills the hook's whole process group on the same timeout", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const started = Date.now();
    const r = await runProcess("bash", hook(pidFile), { timeoutMs: 300, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(2500);
    const grandchild = Number((await readFile(pidFile, "utf8")).trim());
    strays.push(grandchild);
    await settle();
    expect(pidRunning(grandchild)).toBe(false);
  });

  it("execa's bounded capture (maxBuffer) terminates the tool; the runner keeps the first bytes and lets it finish", async () => {
    const script = "head -c 300000 /dev/zero | tr '\\0' x; echo; echo finished";
    const viaExeca = await execa("bash", ["-c", script], { maxBuffer: 1000, reject: false });
    expect(viaExeca.isMaxBuffer).toBe(true);
    expect(viaExeca.isTerminated).toBe(true);
    const viaRunner = await runProcess("bash", ["-c", script], { maxCapture: 1000 });
    expect(viaRunner.exitCode).toBe(0);
    expect(viaRunner.stdout).toBe("x".repeat(1000));
  });
});
