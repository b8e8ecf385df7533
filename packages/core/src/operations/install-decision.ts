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

export type InstallMode = "install" | "upgrade" | "rollback";

export type Decision = {
  action: "install" | "upgrade" | "rollback" | "none";
  previousVersion?: string | undefined;
  note?: string | undefined;
};

export interface Wanted {
  version: string;
  digest: string;
  valuesFingerprint: string;
  namespace: string;
  /** Configure answers given that differ from the recorded ones. */
  changedAnswers?: readonly string[] | undefined;
}

/**
 * Same version, digest, values and answers deployed: nothing to do (unless
 * --force); another version, package, values or answers: upgrade. A
 * rollback always runs. Moving an installed add-on to another namespace is
 * refused (it would leave the old release behind).
 */
export function decideAction(existing: InstallRecord | undefined, mode: InstallMode, wanted: Wanted, force: boolean): Decision {
  const { version, digest } = wanted;
  if (existing === undefined) {
    if (mode !== "install") {
      throw new NotFoundError(`cannot ${mode}: this add-on is not installed on the cluster`, {
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
  if (mode === "rollback") {
    return {
      action: "rollback",
      previousVersion: existing.version,
      note: `rolling ${existing.name} back from ${existing.version} to ${version}`,
    };
  }
  const samePackage = existing.version === version && existing.digest === digest;
  // No fingerprint: the record predates keyed fingerprints, so the values it was installed with are unknown.
  const valuesKnown = existing.valuesFingerprint !== undefined;
  const sameValues = samePackage && valuesKnown && existing.valuesFingerprint === wanted.valuesFingerprint;
  const changed = wanted.changedAnswers ?? [];
  const same = sameValues && changed.length === 0;
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
  const note = sameValues
    ? `${existing.name} ${version} is installed with other configure answers (${changed.join(", ")}); upgrading to apply them`
    : samePackage
      ? valuesKnown
        ? `${existing.name} ${version} is installed with other values; upgrading to apply them`
        : `${existing.name} ${version} was recorded without a values fingerprint (by an older Core); upgrading to apply the values given`
      : existing.version === version
        ? `${existing.name} ${version} is installed from a different package (digest ${existing.digest}); upgrading`
        : `${existing.name} ${existing.version} is installed; upgrading to ${version}`;
  return { action: "upgrade", previousVersion: existing.version, note };
}

/** A rollback's revision and the values fingerprint it was installed with. */
export interface ExpectedValues {
  revision: number;
  valuesFingerprint: string | undefined;
}

/** A rollback must reproduce the revision's values: the fingerprints say whether it does. */
export function checkExpectedValues(expect: ExpectedValues | undefined, fingerprint: string, force: boolean): void {
  if (expect === undefined || force || expect.valuesFingerprint === fingerprint) return;
  throw new ValidationError(`the values given differ from the ones revision ${expect.revision} was installed with`, [], {
    hint:
      "give the same -f/--set as then (Core keeps only a fingerprint of values), or --force to roll back with these values " +
      "(a revision another operator installed never matches: their fingerprints are keyed with their own values.key)",
  });
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
