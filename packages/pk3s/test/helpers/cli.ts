/** Run the built `pk3s` binary as a subprocess with private config/cache/state dirs. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const PK3S_BIN = fileURLToPath(new URL("../../dist/cli/pk3s.js", import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  root: string;
  env: Record<string, string>;
  run(args: string[], extraEnv?: Record<string, string | undefined>, cwd?: string): Promise<RunResult>;
  cleanup(): void;
}

const STRIPPED = [
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "http_proxy",
  "https_proxy",
  "NO_PROXY",
  "no_proxy",
  "PK3S_CORE_BIN",
  "PK3S_INFRA_BIN",
  "PK3S_DEFAULT_CATALOG",
  "KUBECONFIG",
  "NO_COLOR",
];

export function sandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "pk3s-test-"));
  const env: Record<string, string> = {
    PK3S_CONFIG_DIR: join(root, "config"),
    PK3S_CACHE_DIR: join(root, "cache"),
    PK3S_STATE_DIR: join(root, "state"),
    HOME: join(root, "home"),
    // No built-in catalog (the checkout's catalogs/local): each test sees only the catalogs it adds.
    // A test of the built-in catalogs passes { PK3S_DEFAULT_CATALOG: undefined }.
    PK3S_DEFAULT_CATALOG: "none",
  };
  return {
    root,
    env,
    run(args, extraEnv = {}, cwd = root) {
      const base: Record<string, string | undefined> = { ...process.env };
      for (const k of STRIPPED) delete base[k];
      const merged: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...base, ...env, ...extraEnv })) if (v !== undefined) merged[k] = v;
      return new Promise((resolve) => {
        execFile(process.execPath, ["--", PK3S_BIN, ...args], { env: merged, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1;
          resolve({ code, stdout, stderr });
        });
      });
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
