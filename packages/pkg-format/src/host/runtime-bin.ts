/**
 * Finding a runtime binary (DESIGN.md §1): `--core-bin`/`--infra-bin`, then
 * PK3S_CORE_BIN/PK3S_INFRA_BIN, then the installed dependency package, then
 * PATH. A `.js` file is run with this Node; anything else is executed as is.
 * Shared by pk3s (both runtimes) and Infra (Core, for the add-ons on an
 * instance's cluster). The installed package is resolved from the caller's
 * module (`from`: its `import.meta.url`), where its dependencies are.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { MissingToolError } from "../errors.js";
import { findExecutable } from "./process.js";

export type RuntimeName = "core" | "infra";

const INFO: Record<RuntimeName, { bin: string; pkg: string; env: string; flag: string }> = {
  core: { bin: "productive-k3s-core", pkg: "@productive-k3s/core", env: "PK3S_CORE_BIN", flag: "--core-bin" },
  infra: { bin: "productive-k3s-infra", pkg: "@productive-k3s/infra", env: "PK3S_INFRA_BIN", flag: "--infra-bin" },
};

export interface RuntimeCommand {
  runtime: RuntimeName;
  binName: string;
  /** The file that was found. */
  path: string;
  /** How to run it: [executable, ...leading args]. */
  command: string;
  prefixArgs: string[];
  source: "flag" | "env" | "package" | "path";
  /** The version in the package.json that provided the bin (source "package" only). */
  packageVersion?: string | undefined;
}

function asCommand(runtime: RuntimeName, path: string, source: RuntimeCommand["source"], packageVersion?: string): RuntimeCommand {
  const isScript = /\.(m|c)?js$/.test(path);
  return {
    runtime,
    binName: INFO[runtime].bin,
    path,
    command: isScript ? process.execPath : path,
    // `node -- bin`: Node 20 otherwise reads our `--env-file` flag as its own and exits 9 when the file is missing.
    prefixArgs: isScript ? ["--", path] : [],
    source,
    ...(packageVersion === undefined ? {} : { packageVersion }),
  };
}

function fromPackage(runtime: RuntimeName, from: string): { file: string; version: string | undefined } | undefined {
  try {
    const require = createRequire(from);
    const pkgJson = require.resolve(`${INFO[runtime].pkg}/package.json`);
    const pkg = JSON.parse(readFileSync(pkgJson, "utf8")) as { bin?: Record<string, string> | string; version?: unknown };
    const rel = typeof pkg.bin === "string" ? pkg.bin : pkg.bin?.[INFO[runtime].bin];
    if (rel === undefined) return undefined;
    const file = resolve(dirname(pkgJson), rel);
    return existsSync(file) ? { file, version: typeof pkg.version === "string" ? pkg.version : undefined } : undefined;
  } catch {
    return undefined;
  }
}

/** Locate a runtime without throwing (for `pk3s --version`); `from` is the caller's `import.meta.url`. */
export function findRuntime(runtime: RuntimeName, from: string, flagValue?: string): RuntimeCommand | undefined {
  if (flagValue !== undefined && flagValue !== "") return asCommand(runtime, resolve(flagValue), "flag");
  const env = process.env[INFO[runtime].env];
  if (env !== undefined && env !== "") return asCommand(runtime, resolve(env), "env");
  const pkg = fromPackage(runtime, from);
  if (pkg !== undefined) return asCommand(runtime, pkg.file, "package", pkg.version);
  const onPath = findExecutable(INFO[runtime].bin);
  return onPath === undefined ? undefined : asCommand(runtime, onPath, "path");
}

export function requireRuntime(runtime: RuntimeName, from: string, flagValue?: string): RuntimeCommand {
  const found = findRuntime(runtime, from, flagValue);
  const info = INFO[runtime];
  if (found === undefined) {
    throw new MissingToolError(info.bin, `runtime ${info.bin} not found`, {
      where: "PATH",
      hint: `install ${info.pkg}, put ${info.bin} on PATH, or point ${info.env} / ${info.flag} at it`,
    });
  }
  if (found.source !== "package" && found.source !== "path" && !existsSync(found.path)) {
    throw new MissingToolError(
      info.bin,
      `runtime ${info.bin} not found at ${found.path} (from ${found.source === "flag" ? info.flag : info.env})`,
      {
        where: found.path,
        hint: `fix or unset ${found.source === "flag" ? info.flag : info.env}`,
      },
    );
  }
  return found;
}
