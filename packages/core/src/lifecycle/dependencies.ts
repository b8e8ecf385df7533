/**
 * Dependency checks: every `spec.dependencies` entry must have a deployed
 * install record on this cluster whose version satisfies its range.
 * `--assume-installed name@version` (dry-run only) adds entries, so pk3s can
 * dry-run a whole chain in order before anything is installed.
 */
import { type Problem, UsageError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import { versionSatisfies } from "@productive-k3s/pkg-format/version-range";
import semver from "semver";
import type { AddonDependency } from "../manifest-view.js";
import type { InstallRecord } from "../records/schema.js";

export interface InstalledVersion {
  name: string;
  version: string;
  status: InstallRecord["status"] | "assumed";
}

export interface DependencyResult {
  name: string;
  range: string;
  satisfiedBy?: string | undefined;
  ok: boolean;
}

/** Parse `name@version` from `--assume-installed`. */
export function parseAssumed(value: string): { name: string; version: string } {
  const at = value.lastIndexOf("@");
  const name = at > 0 ? value.slice(0, at) : "";
  const version = at > 0 ? value.slice(at + 1) : "";
  if (name === "" || semver.valid(version) === null) {
    throw new UsageError(`invalid --assume-installed ${quoteForTerminal(value)}: expected name@version, e.g. cert-manager@1.2.0`);
  }
  return { name: assertValidName("package", name, "--assume-installed name"), version };
}

function installCommand(dep: AddonDependency): string {
  return dep.version === "*" || dep.version === "" ? `pk3s addon install ${dep.name}` : `pk3s addon install '${dep.name}@${dep.version}'`;
}

export function checkDependencies(
  dependencies: readonly AddonDependency[],
  installed: readonly InstalledVersion[],
  where: string,
): { results: DependencyResult[]; problems: Problem[] } {
  const results: DependencyResult[] = [];
  const problems: Problem[] = [];
  for (const [i, dep] of dependencies.entries()) {
    const range = dep.version === "" ? "*" : dep.version;
    const candidates = installed.filter((r) => r.name === dep.name);
    const good = candidates.find((r) => (r.status === "deployed" || r.status === "assumed") && versionSatisfies(r.version, range));
    results.push({ name: dep.name, range, satisfiedBy: good?.version, ok: good !== undefined });
    if (good !== undefined) continue;
    const found = candidates[0];
    const wanted = range === "*" ? dep.name : `${dep.name} ${range}`;
    let message: string;
    if (found === undefined) message = `requires ${wanted}, which is not installed on ${where}`;
    else if (found.status !== "deployed")
      message = `requires ${wanted}; ${dep.name} ${found.version} is recorded as ${found.status} on ${where}`;
    else message = `requires ${wanted}; ${dep.name} ${found.version} is installed on ${where}`;
    problems.push({
      file: "addon.yaml",
      path: `spec.dependencies[${i}]`,
      message: `${message}; install it first: ${installCommand(dep)}`,
      severity: "error",
    });
  }
  return { results, problems };
}
