/**
 * Helpers for the OCI registry tests: packages packed by the real packer, the real skopeo as an
 * independent client, and pk3s runs that feed stdin (registry login). Every child process runs
 * asynchronously: a token server lives in the test process and must keep answering.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { packPackage } from "@productive-k3s/pkg-format/pack";
import { PK3S_BIN, type RunResult, type Sandbox } from "./cli.js";
import { writeAddonSource } from "./sources.js";

export const SKOPEO = "/usr/bin/skopeo";

export function skopeoAvailable(): boolean {
  try {
    accessSync(SKOPEO, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: options.env ?? process.env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1;
      resolve({ code, stdout, stderr });
    });
    // A child that exits without reading stdin closes the pipe: that is not the test's failure.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.stdin ?? "");
  });
}

/** `skopeo inspect --raw docker://REF` (exact manifest bytes as the registry serves them). */
export async function skopeoRaw(ref: string, flags: string[]): Promise<string> {
  const r = await run(SKOPEO, ["inspect", "--raw", ...flags, `docker://${ref}`]);
  if (r.code !== 0) throw new Error(`skopeo inspect ${ref} failed: ${r.stderr}`);
  return r.stdout;
}

/** pk3s with stdin (the sandbox's runner has none). */
export function pk3sWithStdin(sb: Sandbox, args: string[], stdin: string, extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...sb.env, ...extraEnv };
  for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy"]) delete env[k];
  return run(process.execPath, ["--", PK3S_BIN, ...args], { env, stdin });
}

export interface PackedAddon {
  file: string;
  digest: string;
  bytes: Buffer;
}

/** An add-on packed by the real packer into `<root>/packages-<tag>/` (another `tag`, other bytes for the same version). */
export async function packAddon(root: string, name: string, version: string, deps: string[] = [], tag = "a"): Promise<PackedAddon> {
  const extra = tag === "a" ? [] : ["  impact:", `    summary: build ${tag}`];
  const src = await writeAddonSource(join(root, `src-${tag}`), name, version, deps, extra);
  const { file } = await packPackage(src, join(root, `packages-${tag}`));
  const bytes = readFileSync(file);
  return { file, bytes, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}` };
}

export function sha256(bytes: string | Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}
