import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pidRunning as alive } from "../../../fixtures/process-state.js";
import { MissingToolError, ValidationError } from "../src/errors.js";
import { resolveTool, runProcess, unpassableValueProblems } from "../src/host/process.js";
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

  it("redacts a multi-line secret printed in two chunks, in captured output and the log", async () => {
    const secret = "first-line-secret\nsecond-line-secret";
    const logFile = join(dir, "run.log");
    // The secret reaches our pipe in two writes 200 ms apart, its line break between them.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion
    const script = 'printf "key: %s" "${SECRET:0:20}"; sleep 0.2; printf "%s end\\n" "${SECRET:20}"; printf "err %s x\\n" "$SECRET" >&2';
    const r = await runProcess("bash", ["-c", script], {
      env: { SECRET: secret },
      redact: createRedactor([secret]),
      logFile,
      prefix: "[step] ",
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("key: *** end\n");
    expect(r.stderr).toBe("err *** x\n");
    const log = await readFile(logFile, "utf8");
    expect(log.split("\n").sort()).toEqual(["", "[step] ! err *** x", "[step] key: *** end"]);
    for (const part of ["first-line", "second-line"]) expect(`${r.stdout}${r.stderr}${log}`).not.toContain(part);
  });

  it("refuses a NUL in an environment value or an argument before spawning: exit 4, value never quoted", async () => {
    const env = await runProcess("bash", ["-c", "true"], { env: { TOKEN: "s3cr\0et-x9" }, toolName: "tofu" }).catch((e: unknown) => e);
    expect(env).toBeInstanceOf(ValidationError);
    expect((env as ValidationError).exitCode).toBe(4);
    expect((env as ValidationError).message).toBe(
      "cannot run tofu: environment variable TOKEN holds a NUL character, which no process can receive (arguments and environment values end at NUL); remove it",
    );
    const arg = await runProcess("bash", ["-c", "true", "s3cr\0et-x9"]).catch((e: unknown) => e);
    expect(arg).toBeInstanceOf(ValidationError);
    expect((arg as ValidationError).message).toContain("argument 3 holds a NUL character");
    for (const e of [env, arg]) expect(JSON.stringify((e as ValidationError).toJSON())).not.toMatch(/s3cr|et-x9/);
    expect(unpassableValueProblems({ OK: "fine", BAD: "x\0y" }, "secret.env")).toEqual([
      { file: "secret.env", path: "BAD", message: expect.stringContaining("holds a NUL character"), severity: "error" },
    ]);
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
