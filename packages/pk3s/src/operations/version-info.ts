/** `pk3s --version`: our version and that of each runtime we would delegate to. */
import { packageVersion } from "@productive-k3s/pkg-format/version";
import { runRuntime } from "../delegate/delegate.js";
import { findRuntime, type RuntimeName } from "../delegate/runtime-bin.js";

export interface RuntimeVersion {
  name: string;
  version: string | null;
  path: string | null;
}

export async function versionInfo(
  bins: { core?: string | undefined; infra?: string | undefined } = {},
): Promise<{ pk3s: string; runtimes: RuntimeVersion[] }> {
  const pk3s = packageVersion(import.meta.url, "../../package.json");
  const runtimes: RuntimeVersion[] = [];
  for (const name of ["core", "infra"] as RuntimeName[]) {
    const found = findRuntime(name, bins[name]);
    const binName = `productive-k3s-${name}`;
    if (found === undefined) {
      runtimes.push({ name: binName, version: null, path: null });
      continue;
    }
    try {
      const res = await runRuntime(found, ["--version"], { captureStdout: true, captureStderr: true, timeoutMs: 10_000 });
      const version = res.exitCode === 0 ? (res.stdout.trim().split(/\s+/).pop() ?? null) : null;
      runtimes.push({ name: binName, version, path: found.path });
    } catch {
      runtimes.push({ name: binName, version: null, path: found.path });
    }
  }
  return { pk3s, runtimes };
}

export function renderVersion(v: { pk3s: string; runtimes: RuntimeVersion[] }): string {
  return [
    `pk3s ${v.pk3s}`,
    ...v.runtimes.map((r) =>
      r.version === null
        ? `${r.name} not found${r.path ? ` (${r.path} did not answer --version)` : ""}`
        : `${r.name} ${r.version} (${r.path})`,
    ),
  ].join("\n");
}
