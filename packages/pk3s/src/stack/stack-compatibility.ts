/**
 * A stack's own `spec.runtime.compatibility` (the add-ons' are Core's to
 * check): `core.minVersion` against the productive-k3s-core pk3s runs, and
 * `kubernetes.distros` / `kubernetes.minVersion` against the cluster as Core
 * read it (known after a Core run: `stack plan` and `stack diff` check it;
 * `stack install`, which probes the cluster once, in the run that installs,
 * leaves the cluster side to `stack plan`).
 */
import type { Problem } from "@productive-k3s/pkg-format/errors";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import type { StackManifest } from "@productive-k3s/pkg-format/schema-stack";
import semver from "semver";

function atLeast(actual: string | undefined, min: string | undefined): boolean {
  if (min === undefined || actual === undefined) return true;
  const a = semver.coerce(actual);
  const m = semver.coerce(min);
  return a === null || m === null || semver.gte(a, m);
}

export function stackRuntimeProblems(
  stack: StackManifest,
  label: string,
  found: { coreVersion?: string | undefined; cluster?: { version?: string | undefined; distro?: string | undefined } | undefined },
): Problem[] {
  const c = stack.spec.runtime?.compatibility;
  const problems: Problem[] = [];
  const at = (path: string, message: string): number => problems.push({ file: label, path, message, severity: "error" });
  if (!atLeast(found.coreVersion, c?.core?.minVersion)) {
    at(
      "spec.runtime.compatibility.core.minVersion",
      `the stack needs productive-k3s-core >= ${c?.core?.minVersion}, found ${found.coreVersion}`,
    );
  }
  const cluster = found.cluster;
  if (cluster !== undefined) {
    const distros = c?.kubernetes?.distros;
    if (distros !== undefined && cluster.distro !== undefined && !distros.includes(cluster.distro)) {
      at("spec.runtime.compatibility.kubernetes.distros", `the stack runs on ${distros.join(", ")}; the cluster is ${cluster.distro}`);
    }
    if (!atLeast(cluster.version, c?.kubernetes?.minVersion)) {
      at(
        "spec.runtime.compatibility.kubernetes.minVersion",
        `the stack needs Kubernetes >= ${c?.kubernetes?.minVersion}; the cluster runs ${cluster.version}`,
      );
    }
  }
  return problems;
}

export function assertStackRuntime(stack: StackManifest, label: string, found: Parameters<typeof stackRuntimeProblems>[2]): void {
  const problems = stackRuntimeProblems(stack, label, found);
  if (problems.length > 0) {
    throw new ValidationError(
      `stack ${stack.metadata.name} cannot run here: ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
      problems,
      {
        where: label,
        hint: "each problem above names the stack's requirement and what was found",
      },
    );
  }
}
