import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pidRunning as alive } from "../../../fixtures/process-state.js";
import { MissingToolError } from "../src/errors.js";
import { resolveTool, runProcess } from "../src/host/process.js";
import { createRedactor } from "../src/host/redact.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pk3s-proc-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("runProcess", () => {
  it("captures stdout/stderr lines, exit code, and passes env", async () => {
    const r = await runProcess("bash", ["-c", 'echo "out $FOO"; echo err >&2; exit 3'], { env: { FOO: "bar" } });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe("out bar\n");
    expect(r.stderr).toBe("err\n");
    expect(r.timedOut).toBe(false);
  });

  it("redacts secrets in captured output and in the log file, with the step prefix", async () => {
    const logFile = join(dir, "run.log");
    const r = await runProcess("bash", ["-c", 'echo "token=$SECRET"; echo "json=\\"$SECRET\\"" >&2'], {
      env: { SECRET: "hunter2-s3cr3t" },
      redact: createRedactor(["hunter2-s3cr3t"]),
      logFile,
      prefix: "[step] ",
    });
    expect(r.stdout).toBe("token=***\n");
    const log = await readFile(logFile, "utf8");
    expect(log).toBe('[step] token=***\n[step] ! json="***"\n');
    expect(log).not.toContain("hunter2");
  });

  it("kills the whole process group on timeout: no grandchild survives", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const r = await runProcess("bash", ["-c", `sleep 30 & echo $! > ${pidFile}; sleep 30`], { timeoutMs: 300, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    const grandchild = Number((await readFile(pidFile, "utf8")).trim());
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it("kills children that ignore SIGTERM after the grace period", async () => {
    const r = await runProcess("bash", ["-c", "trap '' TERM; sleep 30"], { timeoutMs: 200, killGraceMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(10_000);
  });

  it("a missing executable is a MissingToolError (exit 5) naming the tool", async () => {
    await expect(runProcess(join(dir, "nope"), [], { toolName: "helm" })).rejects.toMatchObject({
      exitCode: 5,
      message: expect.stringContaining("helm"),
    });
  });
});

describe("resolveTool", () => {
  it("prefers the env override and rejects a bad one", () => {
    process.env.PK3S_TEST_TOOL_BIN = "/bin/sh";
    expect(resolveTool("whatever", "PK3S_TEST_TOOL_BIN")).toBe("/bin/sh");
    process.env.PK3S_TEST_TOOL_BIN = join(dir, "missing");
    expect(() => resolveTool("helm", "PK3S_TEST_TOOL_BIN")).toThrow(MissingToolError);
    delete process.env.PK3S_TEST_TOOL_BIN;
  });
  it("finds tools on PATH and explains when absent", () => {
    expect(resolveTool("bash", "PK3S_TEST_UNSET_BIN")).toMatch(/\/bash$/);
    expect(() => resolveTool("definitely-not-a-tool-xyz", "PK3S_TEST_UNSET_BIN", "see https://example.invalid")).toThrow(
      /definitely-not-a-tool-xyz is not installed/,
    );
  });
});
