/**
 * `spec.compatibility` against a cluster and against Core itself. Every rule
 * that fails is reported (never just the first).
 *
 * Versions in rules may be partial ("1.31"): a rule is compared on the
 * components it gives, so `maxVersion: "1.31"` admits every 1.31.x and
 * `minVersion: "1.31"` admits 1.31.0 and later. The cluster version is read
 * from the server's gitVersion (`v1.31.4+k3s1` → 1.31.4).
 */
import type { Problem } from "@productive-k3s/pkg-format/errors";
import semver from "semver";
import type { AddonView } from "../manifest-view.js";
import type { ClusterInfo } from "./probe.js";

function numbers(version: string): number[] | undefined {
  const core = version.trim().replace(/^v/i, "").split(/[+-]/)[0] ?? "";
  if (!/^\d+(\.\d+){0,2}$/.test(core)) return undefined;
  return core.split(".").map(Number);
}

/** Compare `version` with `rule` on the components the rule gives: -1, 0 or 1; undefined if either is unparseable. */
export function comparePrefix(version: string, rule: string): number | undefined {
  const v = numbers(version);
  const r = numbers(rule);
  if (v === undefined || r === undefined) return undefined;
  for (let i = 0; i < r.length; i++) {
    const a = v[i] ?? 0;
    const b = r[i] ?? 0;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

const problem = (path: string, message: string): Problem => ({ file: "addon.yaml", path, message, severity: "error" });

/** Rules about Core itself (checked even when the cluster cannot be read). */
export function checkCoreCompatibility(addon: AddonView, coreVersion: string): Problem[] {
  const core = addon.spec.compatibility?.requires?.core;
  const problems: Problem[] = [];
  if (core === undefined) return problems;
  const have = semver.coerce(coreVersion)?.version ?? coreVersion;
  if (core.minVersion !== undefined) {
    const min = semver.coerce(core.minVersion);
    if (min === null) problems.push(problem("spec.compatibility.requires.core.minVersion", `"${core.minVersion}" is not a version`));
    else if (semver.lt(have, min)) {
      problems.push(
        problem(
          "spec.compatibility.requires.core.minVersion",
          `requires productive-k3s-core >= ${core.minVersion}, this is ${coreVersion}; upgrade @productive-k3s/core`,
        ),
      );
    }
  }
  if (core.maxVersionExclusive !== undefined) {
    const max = semver.coerce(core.maxVersionExclusive);
    if (max === null) {
      problems.push(problem("spec.compatibility.requires.core.maxVersionExclusive", `"${core.maxVersionExclusive}" is not a version`));
    } else if (semver.gte(have, max)) {
      problems.push(
        problem(
          "spec.compatibility.requires.core.maxVersionExclusive",
          `requires productive-k3s-core < ${core.maxVersionExclusive}, this is ${coreVersion}; use an older Core or a newer add-on`,
        ),
      );
    }
  }
  return problems;
}

/** Rules about the cluster: architectures of every node, k3s version range, distribution. */
export function checkClusterCompatibility(addon: AddonView, cluster: ClusterInfo): Problem[] {
  const compat = addon.spec.compatibility;
  const problems: Problem[] = [];
  if (compat === undefined) return problems;

  const archs = compat.architectures;
  if (archs !== undefined && archs.length > 0) {
    const unsupported = cluster.nodes.filter((n) => !archs.includes(n.architecture));
    if (unsupported.length > 0) {
      const list = unsupported.map((n) => `${n.name} (${n.architecture})`).join(", ");
      problems.push(
        problem("spec.compatibility.architectures", `the add-on supports ${archs.join(", ")}; unsupported node(s) in the cluster: ${list}`),
      );
    }
  }

  const k3s = compat.k3s;
  if (k3s?.minVersion !== undefined) {
    const c = comparePrefix(cluster.version, k3s.minVersion);
    if (c === undefined)
      problems.push(problem("spec.compatibility.k3s.minVersion", `cannot compare "${k3s.minVersion}" with ${cluster.version}`));
    else if (c < 0) {
      problems.push(
        problem("spec.compatibility.k3s.minVersion", `requires Kubernetes/k3s >= ${k3s.minVersion}, the cluster runs ${cluster.version}`),
      );
    }
  }
  if (k3s?.maxVersion !== undefined) {
    const c = comparePrefix(cluster.version, k3s.maxVersion);
    if (c === undefined)
      problems.push(problem("spec.compatibility.k3s.maxVersion", `cannot compare "${k3s.maxVersion}" with ${cluster.version}`));
    else if (c > 0) {
      problems.push(
        problem("spec.compatibility.k3s.maxVersion", `requires Kubernetes/k3s <= ${k3s.maxVersion}, the cluster runs ${cluster.version}`),
      );
    }
  }

  const distros = compat.kubernetes?.distros;
  if (distros !== undefined && distros.length > 0 && !distros.includes(cluster.distro)) {
    problems.push(
      problem(
        "spec.compatibility.kubernetes.distros",
        `supports ${distros.join(", ")}; the cluster is ${cluster.distro} (server version ${cluster.version})`,
      ),
    );
  }
  return problems;
}
