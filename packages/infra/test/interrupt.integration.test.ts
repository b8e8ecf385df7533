/**
 * One Ctrl-C that reaches the runtime twice (the terminal signals the whole
 * foreground group, and pk3s forwards it as well) must not turn into "force
 * quit": the tool gets its grace period to save its state, the run ends 130
 * and leaves no temp directory behind.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFixture, exists, fixturesDir, instanceDir, readJson, type Sandbox, sandbox, startInfra, waitFor } from "./helpers.js";

let sb: Sandbox;
let tgz: string;
let overrides: string;

beforeAll(async () => {
  sb = await sandbox();
  // The install script is a tool that saves its state for ~1 s after a SIGINT (fixtures/bin/interruptible-tool).
  tgz = await buildFixture(sb, "aws-single-node-basic", async (dir) => {
    await writeFile(join(dir, "scenario/install.sh"), '#!/usr/bin/env bash\nexec "$STUB_TOOL"\n', { mode: 0o755 });
  });
  overrides = join(sb.dir, "aws.env");
  await writeFile(overrides, "AWS_KEY_PAIR_NAME=kp\nAWS_SSH_KEY_PATH=/k.pem\n");
});
afterAll(async () => sb.cleanup());

describe("Ctrl-C delivered twice", () => {
  it("two SIGINTs 50 ms apart: the tool saves its state (one SIGINT), exit 130, no temp dir left", async () => {
    const tmp = join(sb.dir, "tmp");
    await mkdir(tmp);
    const marker = join(sb.dir, "marker");
    const started = join(sb.dir, "started");
    const run = startInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", overrides, "--instance", "twice", "--yes"], {
      env: {
        TMPDIR: tmp,
        STUB_TOOL: join(fixturesDir, "bin/interruptible-tool"),
        STUB_MARKER: marker,
        STUB_STARTED: started,
        STUB_SAVE_MS: "1000",
      },
    });
    await waitFor(async () => (await exists(started)) && (await readFile(started, "utf8")) !== "", "the tool to start");
    run.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 50));
    run.child.kill("SIGINT");
    const done = await run.done;
    expect(done.code, done.stderr).toBe(130);
    expect(await readFile(marker, "utf8")).toBe("state saved; interrupts received: 1\n");
    expect(done.stderr).toContain("Gracefully shutting down");
    expect(await readdir(tmp)).toEqual([]);
    const record = await readJson<{ status: string }>(join(instanceDir(sb, "twice"), "instance.json"));
    expect(record.status).toBe("interrupted");
    expect(await exists(join(instanceDir(sb, "twice"), "lock"))).toBe(false);
  });
});
