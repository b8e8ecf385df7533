/**
 * Integration harness: runs the built `productive-k3s-core` binary as a
 * subprocess with private state dirs, the stub helm/kubectl from fixtures/bin
 * and the example kubeconfig, and reads back what the stubs recorded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";

export const repoRoot = resolve(import.meta.dirname, "../../../..");
export const fixtures = join(repoRoot, "fixtures");
export const coreBin = join(repoRoot, "packages/core/dist/cli/productive-k3s-core.js");
export const k3sKubeconfig = join(fixtures, "kubeconfig/k3s.yaml");

export interface RunOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface StubCall {
  tool: "helm" | "kubectl";
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface Sandbox {
  root: string;
  state: string;
  stubLog: string;
  hookLog: string;
  helmState: string;
  env: Record<string, string>;
  run(args: string[], extraEnv?: Record<string, string | undefined>): Promise<RunOutput>;
  spawn(args: string[], extraEnv?: Record<string, string | undefined>): { child: ChildProcess; done: Promise<RunOutput> };
  calls(tool?: "helm" | "kubectl"): Promise<StubCall[]>;
  hookBlocks(): Promise<{ script: string; env: Record<string, string> }[]>;
  /** Pack a fixture source dir with the real packer (`dev addon package`). Returns the .tgz path. */
  pack(sourceDir: string): Promise<string>;
  /** Copy a fixture into the sandbox and edit its addon.yaml / files. */
  variant(fixture: string, edit: (manifest: Record<string, unknown>) => void, files?: Record<string, string>): Promise<string>;
  record(name: string): Promise<Record<string, unknown> | undefined>;
  clusterDir(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), "core-it-"));
  const state = join(root, "state");
  const stubLog = join(root, "stub.ndjson");
  const hookLog = join(root, "hooks.log");
  const helmState = join(root, "helm-state");
  await mkdir(join(root, "out"), { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: root,
    NO_COLOR: "1",
    PK3S_STATE_DIR: state,
    PK3S_CACHE_DIR: join(root, "cache"),
    PK3S_CONFIG_DIR: join(root, "config"),
    PK3S_HELM_BIN: join(fixtures, "bin/helm"),
    PK3S_KUBECTL_BIN: join(fixtures, "bin/kubectl"),
    PK3S_STUB_LOG: stubLog,
    STUB_HELM_STATE_DIR: helmState,
    PK3S_TEST_HOOK_LOG: hookLog,
    KUBECONFIG: k3sKubeconfig,
  };

  const start = (args: string[], extraEnv: Record<string, string | undefined> = {}) => {
    const childEnv: Record<string, string> = { ...env };
    for (const [k, v] of Object.entries(extraEnv)) {
      if (v === undefined) delete childEnv[k];
      else childEnv[k] = v;
    }
    const child = spawn(process.execPath, ["--", coreBin, ...args], { cwd: root, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const done = new Promise<RunOutput>((res) => child.on("close", (code) => res({ code, stdout, stderr })));
    return { child, done };
  };

  const sandbox: Sandbox = {
    root,
    state,
    stubLog,
    hookLog,
    helmState,
    env,
    run: (args, extraEnv) => start(args, extraEnv).done,
    spawn: start,
    async calls(tool) {
      const text = await readFile(stubLog, "utf8").catch(() => "");
      const all = text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as StubCall);
      return tool === undefined ? all : all.filter((c) => c.tool === tool);
    },
    async hookBlocks() {
      const text = await readFile(hookLog, "utf8").catch(() => "");
      return text
        .split(/^--- /m)
        .filter((b) => b.trim() !== "")
        .map((b) => {
          const [script = "", ...lines] = b.trimEnd().split("\n");
          const env: Record<string, string> = {};
          for (const l of lines) {
            const eq = l.indexOf("=");
            if (eq > 0) env[l.slice(0, eq)] = l.slice(eq + 1);
          }
          return { script: script.trim(), env };
        });
    },
    async pack(sourceDir) {
      const out = await mkdtemp(join(root, "out", "pack-"));
      // Packing is set-up, not the behaviour under test: its chart checks (helm lint/template) are not recorded.
      const r = await sandbox.run(["dev", "addon", "package", "--source", sourceDir, "--out", out, "--json"], { PK3S_STUB_LOG: undefined });
      if (r.code !== 0) throw new Error(`packing ${sourceDir} failed (${r.code}): ${r.stderr}`);
      return (JSON.parse(r.stdout) as { file: string }).file;
    },
    async variant(fixture, edit, files = {}) {
      const dir = await mkdtemp(join(root, `src-${fixture}-`));
      await cp(join(fixtures, "addons", fixture), dir, { recursive: true });
      const manifestFile = join(dir, "addon.yaml");
      const manifest = parse(await readFile(manifestFile, "utf8")) as Record<string, unknown>;
      edit(manifest);
      await writeFile(manifestFile, stringify(manifest));
      for (const [rel, content] of Object.entries(files)) {
        await mkdir(resolve(dir, rel, ".."), { recursive: true });
        await writeFile(join(dir, rel), content, { mode: 0o755 });
      }
      return dir;
    },
    async record(name) {
      const dir = await sandbox.clusterDir();
      const text = await readFile(join(dir, "addons", name, "record.json"), "utf8").catch(() => undefined);
      return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
    },
    async clusterDir() {
      const { createHash } = await import("node:crypto");
      const id = createHash("sha256").update("https://127.0.0.1:6443").digest("hex").slice(0, 16);
      return join(state, "core", "clusters", id);
    },
    async cleanup() {
      await rm(root, { recursive: true, force: true });
    },
  };
  return sandbox;
}

export { pidRunning as pidAlive } from "../../../../fixtures/process-state.js";

/** Poll until `check` is true (bounded). */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met in time");
}
