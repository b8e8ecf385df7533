/**
 * Issue 11 item 8: a FIFO, socket or device where Infra reads a source or input file (the
 * `<name>.package.yaml` sidecar, the `--profile-env` file, a file of the scenario, an `--env-file`)
 * is a validation error (exit 4) naming the file, never a hang. Each run is bounded: on the old code
 * the reads of the sidecar, the profile env file and the env file blocked in open(2) until the timeout.
 */
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packPackage } from "@productive-k3s/pkg-format/pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenUnixSocket, mkfifo } from "../../../fixtures/special-files.js";
import { fixturesDir, infraBin } from "./helpers.js";

const BOUND_MS = 20_000;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "infra-special-"));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

function infra(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--", infraBin, ...args], {
    encoding: "utf8",
    timeout: BOUND_MS,
    killSignal: "SIGKILL",
    env: { ...process.env, NO_COLOR: "1", PK3S_STATE_DIR: join(work, "state"), PK3S_CACHE_DIR: join(work, "cache") },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the local-lab source layout; returns the env file. */
async function sourceCopy(name: string): Promise<string> {
  const root = join(work, name);
  await cp(join(fixturesDir, "profiles-src"), root, { recursive: true });
  return join(root, "profiles", "local", "local-lab", "lab.env");
}

describe("special files in a source profile", () => {
  it("a FIFO sidecar: dev profile package exits 4 naming it", async () => {
    const envFile = await sourceCopy("fifo-sidecar");
    const sidecar = envFile.replace(/\.env$/, ".package.yaml");
    await unlink(sidecar);
    mkfifo(sidecar);
    const r = infra(["dev", "profile", "package", "--profile-env", envFile, "--out", join(work, "out1")]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(`sidecar ${sidecar} is a FIFO (named pipe), not a regular file`);
  });

  it("a socket as sidecar: exit 4 naming it", async () => {
    const envFile = await sourceCopy("sock-sidecar");
    const sidecar = envFile.replace(/\.env$/, ".package.yaml");
    await unlink(sidecar);
    const server = await listenUnixSocket(sidecar);
    try {
      const r = infra(["dev", "profile", "validate", "--profile-env", envFile]);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toContain(`sidecar ${sidecar} is a socket, not a regular file`);
    } finally {
      server.close();
    }
  });

  it("a FIFO --profile-env: exit 4 naming it", async () => {
    const envFile = join(await sourceCopy("fifo-env"), "..", "other.env");
    mkfifo(envFile);
    const r = infra(["dev", "profile", "package", "--profile-env", envFile, "--out", join(work, "out2")]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain("other.env is a FIFO (named pipe), not a regular file");
  });

  it("a FIFO in the scenario: exit 4 naming it, nothing packed", async () => {
    const envFile = await sourceCopy("fifo-scenario");
    const fifo = join(work, "fifo-scenario", "scenarios", "local", "local-lab", "pipe");
    mkfifo(fifo);
    const out = join(work, "out3");
    const r = infra(["dev", "profile", "package", "--profile-env", envFile, "--out", out]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(`${fifo} is a FIFO (named pipe), not a regular file`);
  });
});

describe("special files as --env-file", () => {
  it("a FIFO --env-file: profile validate exits 4 naming it", async () => {
    const packed = await packPackage(join(fixturesDir, "profiles", "local-lab"), join(work, "pkg"));
    const fifo = join(work, "inputs.env");
    mkfifo(fifo);
    const r = infra(["profile", "validate", "--tgz", packed.file, "--env-file", fifo]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(`env file ${fifo} is a FIFO (named pipe), not a regular file`);
  });
});
