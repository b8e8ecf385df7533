/**
 * Issue 11 item 8: a FIFO, socket or device where the packer or validator reads a source file
 * (`.pk3signore`, a chart's `Chart.yaml`, a values file) is a validation error (exit 4) naming the
 * file, never a hang. Each run is bounded: on the old code the packer blocked in open(2) of the FIFO
 * until this timeout killed it.
 */
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, rm, symlink, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenUnixSocket, mkfifo } from "../../../fixtures/special-files.js";
import { coreBin, fixtures } from "./helpers/harness.js";

const BOUND_MS = 20_000;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "core-special-"));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

function core(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--", coreBin, ...args], {
    encoding: "utf8",
    timeout: BOUND_MS,
    killSignal: "SIGKILL",
    env: { ...process.env, NO_COLOR: "1", PK3S_STATE_DIR: join(work, "state") },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function longhornCopy(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(join(fixtures, "addons", "longhorn"), dir, { recursive: true });
  return dir;
}

describe("special files in an add-on source", () => {
  it("a FIFO .pk3signore: dev addon package exits 4 naming it", async () => {
    const src = await longhornCopy("fifo-ignore");
    mkfifo(join(src, ".pk3signore"));
    const r = core(["dev", "addon", "package", "--source", src, "--out", join(work, "out1")]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(`${join(src, ".pk3signore")} is a FIFO (named pipe), not a regular file`);
  });

  it("a .pk3signore linked to /dev/zero: exit 4, the device is never read", async () => {
    const src = await longhornCopy("zero-ignore");
    await symlink("/dev/zero", join(src, ".pk3signore"));
    const r = core(["dev", "addon", "package", "--source", src, "--out", join(work, "out2")]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain("is a character device, not a regular file");
  });

  it("a FIFO Chart.yaml: dev addon package and dev addon validate exit 4 naming it", async () => {
    const src = await longhornCopy("fifo-chart");
    const chartYaml = join(src, "charts", "longhorn", "Chart.yaml");
    await unlink(chartYaml);
    mkfifo(chartYaml);
    for (const args of [
      ["dev", "addon", "package", "--source", src, "--out", join(work, "out3")],
      ["dev", "addon", "validate", "--source", src],
    ]) {
      const r = core(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(4);
      expect(r.stderr).toContain("charts/longhorn/Chart.yaml");
      expect(r.stderr).toContain("a FIFO (named pipe)");
    }
  });

  it("a socket as Chart.yaml: exit 4 naming it", async () => {
    const src = await longhornCopy("sock-chart");
    const chartYaml = join(src, "charts", "longhorn", "Chart.yaml");
    await unlink(chartYaml);
    const server = await listenUnixSocket(chartYaml);
    try {
      const r = core(["dev", "addon", "validate", "--source", src]);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toContain("charts/longhorn/Chart.yaml");
      expect(r.stderr).toContain("a socket");
    } finally {
      server.close();
    }
  });

  it("a FIFO values file: exit 4 saying what it is (not 'found a directory')", async () => {
    const src = await longhornCopy("fifo-values");
    await unlink(join(src, "values.yaml"));
    mkfifo(join(src, "values.yaml"));
    const r = core(["dev", "addon", "validate", "--source", src]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('values file "values.yaml"');
    expect(r.stderr).toContain("a FIFO, socket or device");
    expect(r.stderr).not.toContain("found a directory");
  });
});
