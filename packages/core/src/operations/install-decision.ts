/**
 * What `addon install` does with each package of a run, decided from the
 * install records: install, upgrade or nothing (decideAction), and which
 * `--dependency-tgz` packages the cluster already satisfies (skipFor).
 */
import { NotFoundError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { versionSatisfies } from "@productive-k3s/pkg-format/version-range";
import type { AddonView } from "../manifest-view.js";
import type { InstallRecord } from "../records/schema.js";
import type { InstallContext } from "./install-context.js";
import type { SkippedPackage } from "./install-result.js";

export type Decision = { action: "install" | "upgrade" | "none"; previousVersion?: string | undefined; note?: string | undefined };

export interface Wanted {
  version: string;
  digest: string;
  valuesFingerprint: string;
  namespace: string;
}

/**
 * Same version, digest and values deployed: nothing to do (unless --force);
 * another version, package or values: upgrade. Moving an installed add-on to
 * another namespace is refused (it would leave the old release behind).
 */
export function decideAction(existing: InstallRecord | undefined, mode: "install" | "upgrade", wanted: Wanted, force: boolean): Decision {
  const { version, digest } = wanted;
  if (existing === undefined) {
    if (mode === "upgrade") {
      throw new NotFoundError(`cannot upgrade: this add-on is not installed on the cluster`, {
        hint: "install it first with: productive-k3s-core addon install --tgz <file>",
      });
    }
    return { action: "install" };
  }
  const everDeployed = existing.status === "deployed" || existing.history.some((h) => h.status === "deployed");
  if (existing.namespace !== wanted.namespace && everDeployed) {
    throw new ValidationError(`${existing.name} is installed in namespace ${existing.namespace}, not ${wanted.namespace}`, [], {
      hint: `keep --namespace ${existing.namespace}, or uninstall ${existing.name} first to move it`,
    });
  }
  const samePackage = existing.version === version && existing.digest === digest;
  // No fingerprint: the record predates keyed fingerprints, so the values it was installed with are unknown.
  const valuesKnown = existing.valuesFingerprint !== undefined;
  const same = samePackage && valuesKnown && existing.valuesFingerprint === wanted.valuesFingerprint;
  if (same && existing.status === "deployed" && !force) {
    return {
      action: "none",
      previousVersion: existing.version,
      note: `${existing.name} ${version} is already installed with this package (use --force to reinstall)`,
    };
  }
  if (existing.status !== "deployed") {
    return {
      action: mode,
      previousVersion: existing.version,
      note: `the last ${existing.action} of ${existing.name} ${existing.version} ended ${existing.status}; running it again`,
    };
  }
  if (same) return { action: mode, previousVersion: existing.version, note: `reinstalling ${existing.name} ${version} (--force)` };
  const note = samePackage
    ? valuesKnown
      ? `${existing.name} ${version} is installed with other values; upgrading to apply them`
      : `${existing.name} ${version} was recorded without a values fingerprint (by an older Core); upgrading to apply the values given`
    : existing.version === version
      ? `${existing.name} ${version} is installed from a different package (digest ${existing.digest}); upgrading`
      : `${existing.name} ${existing.version} is installed; upgrading to ${version}`;
  return { action: "upgrade", previousVersion: existing.version, note };
}

/** name → what the packages of this run require of it. */
export function requirementsOf(members: readonly { addon: AddonView }[]): Map<string, { by: string; range: string }[]> {
  const out = new Map<string, { by: string; range: string }[]>();
  for (const m of members) {
    for (const d of m.addon.spec.dependencies ?? []) {
      const list = out.get(d.name) ?? [];
      list.push({ by: m.addon.metadata.name, range: d.version === "" ? "*" : d.version });
      out.set(d.name, list);
    }
  }
  return out;
}

/** A dependency is skipped when a deployed version satisfies every range the run requires of it. */
export function skipFor(
  member: { addon: AddonView; digest: string },
  ctx: Pick<InstallContext, "records" | "dryRun" | "where">,
  required: readonly { by: string; range: string }[],
): SkippedPackage | undefined {
  const { name, version } = member.addon.metadata;
  const deployed = ctx.records.find((r) => r.name === name && r.status === "deployed");
  if (deployed === undefined) return undefined;
  if (!required.every((r) => versionSatisfies(deployed.version, r.range))) return undefined;
  const ranges = required.map((r) => `${r.range} (${r.by})`).join(", ");
  return {
    ok: true,
    dryRun: ctx.dryRun,
    action: "skip",
    name,
    version,
    digest: member.digest,
    installedVersion: deployed.version,
    requiredBy: [...required],
    reason: `${name} ${deployed.version} is installed on ${ctx.where}${ranges === "" ? "" : ` and satisfies ${ranges}`}`,
  };
}

export const isSkipped = (p: object): p is SkippedPackage => "installedVersion" in p;
