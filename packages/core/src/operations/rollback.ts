/**
 * `addon rollback NAME [--to VERSION|REVISION]`: reinstall the package of an
 * earlier revision (kept with the record, in the state backend: another
 * operator sharing PostgreSQL can roll back too) with what that revision was
 * installed with, through the same lifecycle as an upgrade (backup first,
 * configure, hooks, Helm, scripts; a new revision is recorded).
 *
 * Values are never stored, only their fingerprint: the revision's `-f`
 * files are used again (when no -f/--set is given) and must still hold the
 * same values; `--set` values must be given again. The values fingerprint
 * must match the revision's (`--force` rolls back with other values). The
 * revision's recorded configure answers are given again; sensitive ones,
 * never recorded, are asked for as in an upgrade.
 * Default target: the latest deployed revision before the current one.
 */
import { stat } from "node:fs/promises";
import { NotFoundError, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import semver from "semver";
import { splitSets } from "../contract/answers.js";
import type { HistoryEntry, InstallRecord } from "../records/schema.js";
import { revisionPackage } from "../records/store.js";
import { type InstallOptions, installAddon } from "./install.js";
import type { InstallResult } from "./install-result.js";
import { readInstalled } from "./installed-addon.js";

export interface RollbackOptions
  extends Omit<InstallOptions, "tgz" | "mode" | "dependencyTgzs" | "assumeInstalled" | "baseAnswers" | "expect"> {
  name: string;
  /** `--to`: a revision number or a version (its latest deployed revision). */
  to?: string | undefined;
}

type Deployed = HistoryEntry & { revision: number };

/** The revision to roll back to. */
export function pickRevision(record: InstallRecord, to: string | undefined): Deployed {
  const revisions = record.history.filter((h): h is Deployed => h.revision !== undefined && h.action !== "uninstall");
  const deployed = revisions.filter((h) => h.status === "deployed");
  if (to === undefined) {
    const earlier = deployed.filter((h) => h.revision !== record.revision).at(-1);
    if (earlier === undefined) {
      throw new NotFoundError(`${record.name} has no earlier deployed revision to roll back to`, {
        hint: `see its revisions with: productive-k3s-core addon history ${record.name}`,
      });
    }
    return earlier;
  }
  if (/^\d+$/.test(to)) {
    const r = revisions.find((h) => h.revision === Number(to));
    if (r === undefined)
      throw new NotFoundError(`${record.name} has no revision ${to}`, { hint: `productive-k3s-core addon history ${record.name}` });
    if (r.status !== "deployed")
      throw new ValidationError(`revision ${to} of ${record.name} ended ${r.status}; roll back to a deployed one`, []);
    return r;
  }
  if (semver.valid(to) === null) throw new UsageError(`invalid --to ${quoteForTerminal(to)}: expected a revision number or a version`);
  const r = deployed.filter((h) => h.version === to).at(-1);
  if (r === undefined)
    throw new NotFoundError(`${record.name} ${to} was never deployed on this cluster`, {
      hint: `productive-k3s-core addon history ${record.name}`,
    });
  return r;
}

export async function rollbackAddon(options: RollbackOptions): Promise<InstallResult> {
  const { store, record } = await readInstalled(options);
  const target = pickRevision(record, options.to);
  const tgz = await revisionPackage(store, record.name, target.digest);
  if (tgz === undefined) {
    throw new NotFoundError(`the package of revision ${target.revision} (${record.name} ${target.version}) is no longer kept`, {
      where: target.digest,
      hint: "Core keeps the packages of the latest PK3S_KEEP_PACKAGES (default 5) revisions; install that version again instead",
    });
  }
  const givenSets = splitSets(options.sets ?? []).helm;
  const givenValues = (options.values ?? []).length > 0 || givenSets.length > 0;
  const used = target.values ?? { files: [], setKeys: [] };
  if (!givenValues && used.setKeys.length > 0) {
    throw new ValidationError(`revision ${target.revision} was installed with --set ${used.setKeys.join(", ")}: give them again`, [], {
      hint: "Core never stores values, only their fingerprint, which the values given must match",
    });
  }
  const files = givenValues ? (options.values ?? []) : used.files;
  for (const f of files) {
    if ((await stat(f).catch(() => undefined)) === undefined) {
      throw new NotFoundError(`values file ${f} of revision ${target.revision} is gone`, {
        where: f,
        hint: "give the values again with -f/--set",
      });
    }
  }
  process.stderr.write(`rolling ${record.name} back to revision ${target.revision} (${target.version}, ${target.digest})\n`);
  return installAddon({
    ...options,
    tgz,
    mode: "rollback",
    namespace: options.namespace ?? record.namespace,
    values: files,
    baseAnswers: target.answers,
    expect: { revision: target.revision, valuesFingerprint: target.valuesFingerprint },
  });
}
