/**
 * `pk3s --version`: our version and that of each runtime we would delegate to.
 *
 * The runtime's version is read from the package.json of the package its bin
 * belongs to (walking up from the resolved file), which costs a file read
 * instead of a second Node start-up; only a bin that belongs to no
 * @productive-k3s package (a wrapper on PATH, say) is asked with --version.
 */
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { packageRoot, packageVersion } from "@productive-k3s/pkg-format/version";
import { findRuntime, type RuntimeName } from "../delegate/runtime-bin.js";

export interface RuntimeVersion {
  name: string;
  version: string | null;
  path: string | null;
}

export async function versionInfo(
  bins: { core?: string | undefined; infra?: string | undefined } = {},
): Promise<{ pk3s: string; runtimes: RuntimeVersion[] }> {
  const pk3s = packageVersion(import.meta.url);
  const runtimes: RuntimeVersion[] = [];
  for (const name of ["core", "infra"] as RuntimeName[]) {
    const found = findRuntime(name, bins[name]);
    const binName = `productive-k3s-${name}`;
    if (found === undefined) {
      runtimes.push({ name: binName, version: null, path: null });
      continue;
    }
    // Found through the installed package: its package.json was just read. Elsewhere (flag, env, PATH) the
    // bin may still belong to the package: look for its package.json before starting it.
    const fromPackage = found.packageVersion ?? ownPackageVersion(found.path, `@productive-k3s/${name}`);
    if (fromPackage !== undefined) {
      runtimes.push({ name: binName, version: fromPackage, path: found.path });
      continue;
    }
    try {
      const { runRuntime } = await import("../delegate/delegate.js");
      const res = await runRuntime(found, ["--version"], { captureStdout: true, captureStderr: true, timeoutMs: 10_000 });
      const version = res.exitCode === 0 ? (res.stdout.trim().split(/\s+/).pop() ?? null) : null;
      runtimes.push({ name: binName, version, path: found.path });
    } catch {
      runtimes.push({ name: binName, version: null, path: found.path });
    }
  }
  return { pk3s, runtimes };
}

/** Version from the package `bin` belongs to (the nearest named package.json above it) when that package is `expectedName`. */
function ownPackageVersion(bin: string, expectedName: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(bin);
  } catch {
    return undefined;
  }
  const manifest = packageRoot(pathToFileURL(real).href)?.manifest;
  return manifest?.name === expectedName && typeof manifest.version === "string" ? manifest.version : undefined;
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
