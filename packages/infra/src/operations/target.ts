/**
 * Target compatibility (spec.runtime). `runtime.os` / `runtime.architectures`
 * describe the machines the profile provisions or configures.
 * - When the target is this machine (the engine says so: the script engine,
 *   ansible with the generated localhost inventory), they are checked against this host
 *   (`process.arch` as amd64/arm64/..., `/etc/os-release` as <ID>-<VERSION_ID>,
 *   e.g. ubuntu-24.04; an entry without a version matches any version).
 * - Otherwise (remote targets), the invoking machine may state the target with
 *   PK3S_TARGET_ARCH / PK3S_TARGET_OS in its env; a stated value outside the
 *   declared lists is an error.
 * Unknown architecture names are reported as warnings.
 * A contract check (`validate` without values) does not look at this machine:
 * where a profile is validated (a CI runner) is not where it installs.
 */
import { readFileSync } from "node:fs";
import type { Problem } from "@productive-k3s/pkg-format/errors";
import type { ProfileManifest } from "@productive-k3s/pkg-format/schema-profile";

const KNOWN_ARCHS = new Set(["amd64", "arm64", "arm", "armhf", "386", "ppc64le", "s390x", "riscv64"]);
const NODE_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
};

export function hostArch(): string {
  return NODE_ARCH[process.arch] ?? process.arch;
}

export function hostOs(): string | undefined {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    const id = /^ID="?([^"\n]+)"?$/m.exec(text)?.[1];
    const version = /^VERSION_ID="?([^"\n]+)"?$/m.exec(text)?.[1];
    if (id === undefined) return undefined;
    return version === undefined ? id : `${id}-${version}`;
  } catch {
    return undefined;
  }
}

function osMatches(declared: string, actual: string): boolean {
  return declared === actual || actual.startsWith(`${declared}-`);
}

export function checkTarget(
  manifest: ProfileManifest,
  target: "this-machine" | "remote",
  env: Record<string, string>,
  options: { checkHost?: boolean } = {},
): { problems: Problem[]; warnings: Problem[] } {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const archs = manifest.spec.runtime?.architectures;
  const oses = manifest.spec.runtime?.os;
  for (const [i, a] of (archs ?? []).entries()) {
    if (!KNOWN_ARCHS.has(a)) {
      warnings.push({
        path: `spec.runtime.architectures[${i}]`,
        severity: "warning",
        message: `unknown architecture ${JSON.stringify(a)} (known: ${[...KNOWN_ARCHS].join(", ")})`,
      });
    }
  }
  const local = target === "this-machine" && options.checkHost !== false;
  const arch = env.PK3S_TARGET_ARCH || (local ? hostArch() : undefined);
  const os = env.PK3S_TARGET_OS || (local ? hostOs() : undefined);
  const what = env.PK3S_TARGET_ARCH || env.PK3S_TARGET_OS ? "the target (PK3S_TARGET_*)" : "this machine";
  if (archs !== undefined && archs.length > 0 && arch !== undefined && !archs.includes(arch)) {
    problems.push({
      path: "spec.runtime.architectures",
      severity: "error",
      message: `the profile supports ${archs.join(", ")}, but ${what} is ${arch}`,
    });
  }
  if (oses !== undefined && oses.length > 0 && os !== undefined && !oses.some((d) => osMatches(d, os))) {
    problems.push({
      path: "spec.runtime.os",
      severity: "error",
      message: `the profile supports ${oses.join(", ")}, but ${what} runs ${os}`,
    });
  }
  return { problems, warnings };
}
