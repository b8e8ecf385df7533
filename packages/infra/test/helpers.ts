/**
 * Test helpers: fixture packages built by the real packer, the built binary
 * run as a subprocess with private state/cache/config dirs, the tofu stub.
 */
import { spawn, spawnSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { packPackage } from "@productive-k3s/pkg-format";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const infraBin = join(repoRoot, "packages/infra/dist/cli/productive-k3s-infra.js");
export const fixturesDir = join(repoRoot, "fixtures");
export const tofuStub = join(fixturesDir, "bin/tofu");
export { COMPAT_DIR as compatRoot } from "../../../fixtures/compat-dir.js";

export interface Sandbox {
  dir: string;
  state: string;
  cache: string;
  config: string;
  stubLog: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function sandbox(extraEnv: Record<string, string> = {}): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), "pk3s-infra-test-"));
  const sb: Sandbox = {
    dir,
    state: join(dir, "state"),
    cache: join(dir, "cache"),
    config: join(dir, "config"),
    stubLog: join(dir, "stub.log"),
    env: {},
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  sb.env = {
    PK3S_STATE_DIR: sb.state,
    PK3S_CACHE_DIR: sb.cache,
    PK3S_CONFIG_DIR: sb.config,
    PK3S_TOFU_BIN: tofuStub,
    PK3S_STUB_LOG: sb.stubLog,
    NO_COLOR: "1",
    ...extraEnv,
  };
  return sb;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Environment for the child: ours minus anything that could leak into the test (TF_VAR_, AWS_, PK3S_). */
function childEnv(sb: Sandbox, env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TF_|AWS_|PK3S_|STUB_)/.test(k)) base[k] = v;
  const merged: NodeJS.ProcessEnv = { ...base, ...sb.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

export function runInfra(
  sb: Sandbox,
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<CliResult> {
  return runBuiltCli(infraBin, sb, args, options);
}

/** Run a built CLI bundle (`dist/cli/*.js`) in the sandbox, as runInfra does for Infra. */
export function runBuiltCli(
  bin: string,
  sb: Sandbox,
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--", bin, ...args], {
      cwd: options.cwd ?? sb.dir,
      env: childEnv(sb, options.env ?? {}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** Start the binary without waiting (for lock / kill -9 tests). */
export function startInfra(sb: Sandbox, args: string[], options: { env?: Record<string, string | undefined> } = {}) {
  const child = spawn(process.execPath, ["--", infraBin, ...args], {
    cwd: sb.dir,
    env: childEnv(sb, options.env ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const done = new Promise<CliResult>((r) =>
    child.on("close", (code, signal) => r({ code: code ?? (signal === "SIGKILL" ? 137 : -1), stdout, stderr })),
  );
  return { child, done };
}

/** Build a package from a fixture source dir (optionally edited in a copy first) with the real packer. */
export async function buildFixture(sb: Sandbox, name: string, edit?: (dir: string) => Promise<void>): Promise<string> {
  let source = join(fixturesDir, "profiles", name);
  if (edit !== undefined) {
    const copy = join(sb.dir, "src", `${name}-${Math.random().toString(16).slice(2, 8)}`);
    await cp(source, copy, { recursive: true });
    await edit(copy);
    source = copy;
  }
  const out = join(sb.dir, "pkgs", Math.random().toString(16).slice(2, 8));
  const packed = await packPackage(source, out);
  return packed.file;
}

/**
 * Pack a profile the test writes itself: `profile.yaml` as given, and each file (path → content) in the
 * package; files under scenario/ ending in `.sh` are executable unless listed in `notExecutable`.
 */
export async function packTestProfile(
  sb: Sandbox,
  manifest: string,
  files: Record<string, string>,
  options: { notExecutable?: string[] } = {},
): Promise<string> {
  const src = join(sb.dir, "src", Math.random().toString(16).slice(2, 8));
  await mkdir(src, { recursive: true });
  await writeFile(join(src, "profile.yaml"), manifest);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(src, path)), { recursive: true });
    const executable = path.endsWith(".sh") && !(options.notExecutable ?? []).includes(path);
    await writeFile(join(src, path), content, { mode: executable ? 0o755 : 0o644 });
  }
  return (await packPackage(src, join(sb.dir, "pkgs", Math.random().toString(16).slice(2, 8)))).file;
}

/** A bash script body with `set -euo pipefail`. */
export function bashScript(body: string): string {
  return `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`;
}

/** Add sensitive inputs to a copied fixture's profile.yaml (for buildFixture's `edit`). */
export async function addSensitiveInputs(
  dir: string,
  inputs: { name: string; source: "either" | "local-override" | "package-default"; description?: string }[],
): Promise<void> {
  const file = join(dir, "profile.yaml");
  const lines = inputs.flatMap((i) => [
    `    - name: ${i.name}`,
    "      required: true",
    "      sensitive: true",
    `      source: ${i.source}`,
    ...(i.description === undefined ? [] : [`      description: ${i.description}`]),
  ]);
  await writeFile(file, (await readFile(file, "utf8")).replace("  execution:", [...lines, "  execution:"].join("\n")));
}

/** A sandbox with the aws-single-node-basic package built and an env file with its local overrides. */
export async function awsSandbox(): Promise<{ sb: Sandbox; tgz: string; overrides: string }> {
  const sb = await sandbox();
  const tgz = await buildFixture(sb, "aws-single-node-basic");
  const overrides = join(sb.dir, "aws.env");
  await writeFile(overrides, "AWS_KEY_PAIR_NAME=kp\nAWS_SSH_KEY_PATH=/k.pem\n");
  return { sb, tgz, overrides };
}

export interface StubCall {
  tool: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

export async function stubCalls(sb: Sandbox): Promise<StubCall[]> {
  try {
    const text = await readFile(sb.stubLog, "utf8");
    return text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as StubCall);
  } catch {
    return [];
  }
}

/** The source profiles (every `<name>.env` under `profiles/`) of a dev-layout root, sorted. */
export async function sourceProfiles(root: string): Promise<string[]> {
  return (await allFiles(join(root, "profiles"))).filter((f) => f.endsWith(".env")).sort();
}

/** Every regular file under dir (recursive), for byte searches. */
export async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  }
  await walk(dir);
  return out;
}

export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  const bytes = Buffer.from(needle);
  for (const f of await allFiles(dir)) {
    if ((await readFile(f)).includes(bytes)) hits.push(f);
  }
  return hits;
}

export function instanceDir(sb: Sandbox, instance: string): string {
  return join(sb.state, "infra", "instances", instance);
}

export async function readJson<T = Record<string, unknown>>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Bounded wait for a condition (no timing assertions: just a ceiling). */
export async function waitFor(check: () => Promise<boolean>, what: string, ceilingMs = 20_000): Promise<void> {
  const deadline = Date.now() + ceilingMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const hasAnsible = spawnSync("sh", ["-c", "command -v ansible-playbook"], { encoding: "utf8" }).status === 0;
