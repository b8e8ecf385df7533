import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("..", import.meta.url));
export const FIXTURES_BIN = join(REPO, "fixtures", "bin");
export const BIN = {
  pk3s: join(REPO, "packages/pk3s/dist/bin/pk3s.js"),
  core: join(REPO, "packages/core/dist/bin/productive-k3s-core.js"),
  infra: join(REPO, "packages/infra/dist/bin/productive-k3s-infra.js"),
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
