import { type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("..", import.meta.url));
export const FIXTURES_BIN = join(REPO, "fixtures", "bin");
export const BIN = {
  pk3s: join(REPO, "packages/pk3s/dist/cli/pk3s.js"),
  core: join(REPO, "packages/core/dist/cli/productive-k3s-core.js"),
  infra: join(REPO, "packages/infra/dist/cli/productive-k3s-infra.js"),
} as const;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {}): Run {
  const r: SpawnSyncReturns<string> = spawnSync(file, [...args], {
    encoding: "utf8",
    env: options.env ?? process.env,
    cwd: options.cwd ?? REPO,
    timeout: options.timeout ?? 120_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function node(bin: string, args: readonly string[], options?: Parameters<typeof run>[2]): Run {
  return run(process.execPath, ["--", bin, ...args], options);
}

/** Like `run`, without blocking the event loop (for tests that also serve HTTP in-process). */
export function runAsync(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { env: options.env ?? process.env, cwd: options.cwd ?? REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeout ?? 120_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function nodeAsync(bin: string, args: readonly string[], options?: Parameters<typeof runAsync>[2]): Promise<Run> {
  return runAsync(process.execPath, ["--", bin, ...args], options);
}
