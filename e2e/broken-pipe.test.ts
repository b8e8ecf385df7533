/**
 * Output into a pipe whose reader went away (`pk3s search | head -1`): each binary exits quietly with 141
 * (128 + SIGPIPE, as git or cat do; pkg-format's CLI kit, runCli), never an EPIPE stack trace. Real pipes,
 * through bash:
 * - a search of a catalog big enough to fill the pipe, read by `head -c 1` (the rest cannot be written);
 * - `--help` and `--version --json` written into a pipe already closed: the writer before the binary fills the
 *   pipe until `head -c 1` has exited (its printf fails with EPIPE, SIGPIPE being ignored), so the binary's first
 *   write fails, whatever the timing.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "./helpers.js";

const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/** Runs `<command> | head -c 1` under `set -o pipefail`; the command's own status is printed as `status=N` on stderr. */
function pipeToHead(command: string, env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const script = `set -o pipefail; { ${command}; s=$?; echo "status=$s" >&2; exit $s; } | head -c 1`;
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8", env, timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `<bin> ARGS` after the pipe's reader is gone. */
const intoClosedPipe = (bin: string, args: string): string =>
  `trap "" PIPE; printf x; while printf "%4096s" "" 2>/dev/null; do :; done; ${quote(process.execPath)} -- ${quote(bin)} ${args}`;

function expectQuietBrokenPipe(r: { code: number | null; stdout: string; stderr: string }): void {
  expect(r.stderr).not.toMatch(/EPIPE|internal error|\n\s+at /);
  expect(r.stderr).toMatch(/^status=141\n$/);
  expect(r.code, r.stderr).toBe(141);
  expect(r.stdout.length).toBe(1);
}

describe("output into a pipe that closes early", () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "pk3s-pipe-"));
    const catalog = join(root, "catalog");
    mkdirSync(catalog);
    // 3000 entries: ~200 KB of search output, several times a pipe's 64 KiB.
    const entries = Array.from(
      { length: 3000 },
      (_, i) =>
        `  - name: addon-${String(i).padStart(4, "0")}\n    version: 1.0.0\n    type: addon\n` +
        `    description: an add-on of the big catalog that fills the pipe\n    url: addon-${i}-1.0.0.tgz\n` +
        `    digest: sha256:${"0".repeat(64)}\n    size: 1\n`,
    );
    writeFileSync(join(catalog, "index.yaml"), `apiVersion: catalog.productive-k3s.io/v1\nkind: Catalog\nentries:\n${entries.join("")}`);
    env = {
      ...process.env,
      PK3S_CONFIG_DIR: join(root, "config"),
      PK3S_CACHE_DIR: join(root, "cache"),
      PK3S_STATE_DIR: join(root, "state"),
      PK3S_DEFAULT_CATALOG: "none",
      NO_COLOR: "1",
    };
    const added = spawnSync(process.execPath, ["--", BIN.pk3s, "catalog", "add", "big", catalog], { encoding: "utf8", env });
    expect(added.status, added.stderr).toBe(0);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each([[""], ["--json"]])("pk3s search %s | head -c 1: exit 141, no stack trace", (flag) => {
    const full = spawnSync(process.execPath, ["--", BIN.pk3s, "search", ...(flag === "" ? [] : [flag])], { encoding: "utf8", env });
    expect(full.status, full.stderr).toBe(0);
    expect(full.stdout.length).toBeGreaterThan(128 * 1024);
    expectQuietBrokenPipe(pipeToHead(`${quote(process.execPath)} -- ${quote(BIN.pk3s)} search ${flag}`, env));
  });

  it.each(
    Object.entries(BIN).flatMap(([name, bin]) => [
      [name, "--help", bin],
      [name, "--version --json", bin],
    ]),
  )("%s %s into a closed pipe: exit 141, no stack trace", (_name, args, bin) => {
    expectQuietBrokenPipe(pipeToHead(intoClosedPipe(bin, args), env));
  });

  // The CLI kit writes with write(2) on the descriptor (std-output.ts); a descriptor another program made
  // non-blocking refuses what the pipe cannot take yet (EAGAIN): the rest must go out through Node's stream.
  it.each([[""], ["--json"]])("pk3s search %s into a full non-blocking pipe read late: every byte arrives, exit 0", (flag) => {
    const full = spawnSync(process.execPath, ["--", BIN.pk3s, "search", ...(flag === "" ? [] : [flag])], { encoding: "utf8", env });
    expect(full.status, full.stderr).toBe(0);
    const reader = [
      "import fcntl, os, subprocess, sys, time",
      "r, w = os.pipe()",
      "fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)",
      "p = subprocess.Popen(sys.argv[1:], stdout=w)",
      "os.close(w)",
      "time.sleep(0.5)",
      "out = b''",
      "while True:",
      "    chunk = os.read(r, 65536)",
      "    if not chunk: break",
      "    out += chunk",
      "sys.stdout.buffer.write(out)",
      "sys.exit(p.wait())",
    ].join("\n");
    const args = ["-c", reader, process.execPath, "--", BIN.pk3s, "search", ...(flag === "" ? [] : [flag])];
    const r = spawnSync("python3", args, { encoding: "utf8", env, timeout: 60_000, maxBuffer: 1 << 24 });
    expect(r.stderr).not.toMatch(/EAGAIN|internal error|\n\s+at /);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(full.stdout);
  });
});
