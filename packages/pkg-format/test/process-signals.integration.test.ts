/**
 * The interrupt rule of the runner (process.ts), in a separate process (a
 * miniature runtime, test/helpers/interrupt-driver.mjs, on the built runner):
 * one Ctrl-C delivered twice gives the tool its full grace period; only a
 * later second Ctrl-C, or the end of the grace period, kills it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pidRunning } from "../../../fixtures/process-state.js";

const here = dirname(fileURLToPath(import.meta.url));
const DRIVER = join(here, "helpers/interrupt-driver.mjs");
const TOOL = resolve(here, "../../../fixtures/bin/interruptible-tool");

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pk3s-signals-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>;
  toolPid: number;
  marker: string;
  tmp: string;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function start(env: Record<string, string>): Promise<Started> {
  const tmp = join(dir, "tmp");
  await import("node:fs/promises").then((fs) => fs.mkdir(tmp));
  const marker = join(dir, "marker");
  const startedFile = join(dir, "started");
  const child = spawn(process.execPath, [DRIVER, TOOL], {
    env: { ...process.env, DRIVER_TMP: tmp, STUB_MARKER: marker, STUB_STARTED: startedFile, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const t0 = Date.now();
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((r) =>
    child.on("close", (code) => r({ code, stdout, stderr, ms: Date.now() - t0 })),
  );
  // The tool has installed its SIGINT handler once it wrote its pid.
  const deadline = Date.now() + 20_000;
  while (!(await exists(startedFile)) || (await readFile(startedFile, "utf8")) === "") {
    if (Date.now() > deadline) throw new Error(`the tool did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const toolPid = Number((await readFile(startedFile, "utf8")).trim());
  return { child, done, toolPid, marker, tmp };
}

describe("Ctrl-C reaching the runtime", () => {
  it("twice within 50 ms (terminal + parent): the tool gets one SIGINT and saves its state; exit 130, no temp dir left", async () => {
    const run = await start({ STUB_SAVE_MS: "1000" });
    run.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 50));
    run.child.kill("SIGINT");
    const done = await run.done;
    expect(done.code, done.stderr).toBe(130);
    expect(await readFile(run.marker, "utf8")).toBe("state saved; interrupts received: 1\n");
    expect(JSON.parse(done.stdout)).toMatchObject({ interrupted: true, exitCode: 130, signal: null });
    expect(await readdir(run.tmp)).toEqual([]);
  });

  it("a second Ctrl-C well after the first forces: the tool is killed at once, cleanups run, exit 130", async () => {
    const run = await start({ STUB_SAVE_MS: "30000", DRIVER_GRACE_MS: "30000" });
    run.child.kill("SIGINT");
    // The explicit second Ctrl-C of a user who does not want to wait (outside the duplicate window).
    await new Promise((r) => setTimeout(r, 1500));
    run.child.kill("SIGINT");
    const done = await run.done;
    expect(done.code).toBe(130);
    expect(done.ms).toBeLessThan(15_000);
    expect(await exists(run.marker)).toBe(false);
    expect(pidRunning(run.toolPid)).toBe(false);
    expect(await readdir(run.tmp)).toEqual([]);
  });

  it("a tool that does not stop within the grace period is killed (SIGKILL), and the run still unwinds", async () => {
    const run = await start({ STUB_SAVE_MS: "30000", DRIVER_GRACE_MS: "500" });
    run.child.kill("SIGINT");
    const done = await run.done;
    expect(done.code).toBe(130);
    expect(JSON.parse(done.stdout)).toMatchObject({ interrupted: true, signal: "SIGKILL" });
    expect(await exists(run.marker)).toBe(false);
    expect(await readdir(run.tmp)).toEqual([]);
  });
});

describe("interrupts.ts: one rule per process, however many copies of the module a bundle holds", () => {
  it("a SIGINT goes to the child a second copy tracks; the first copy's handlers do not exit while it runs", async () => {
    const built = resolve(here, "../dist/host/interrupts.js");
    // Two module instances, as a bundled runtime has (its main file and its chunks): different URLs.
    const script = `
      const a = await import(${JSON.stringify(`${built}?copy=a`)});
      const b = await import(${JSON.stringify(`${built}?copy=b`)});
      a.onInterrupt(() => process.stdout.write("cleanup ran\\n"));
      const untrack = b.trackChild({ pgid: 2147483647, interrupt: (s) => process.stdout.write("forwarded " + s + "\\n") });
      process.kill(process.pid, "SIGINT");
      setTimeout(() => {
        process.stdout.write("interrupted " + a.isInterrupted() + " " + b.interruptSignal() + "\\n");
        untrack();
      }, 200);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(stdout).toBe("forwarded SIGINT\ninterrupted true SIGINT\n");
    expect(code).toBe(0);
  });
});
