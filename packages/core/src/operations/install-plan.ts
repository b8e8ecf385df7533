/**
 * Checking the packages of an `addon install` run before any of them runs
 * (compatibility with Core and the cluster, dependencies), and the dry run's
 * answer for one package: what would be done, and the exact commands.
 */

import { basename } from "node:path";
import { warn } from "@productive-k3s/pkg-format/cli";
import { formatProblem, type Problem, StepFailedError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { type Rendered, renderChart } from "../chart/template.js";
import { checkClusterCompatibility, checkCoreCompatibility } from "../cluster/compatibility.js";
import { describeTarget } from "../cluster/kubeconfig.js";
import { changedAnswers } from "../contract/answers.js";
import { coreVersion } from "../core-version.js";
import type { Timeout } from "../duration.js";
import { checkDependencies, type InstalledVersion } from "../lifecycle/dependencies.js";
import { impactOf } from "../lifecycle/impact.js";
import { displayArgv, type HelmTarget, planInstall, UNRESOLVED, type UserValues } from "../lifecycle/plan.js";
import { fingerprintValues } from "../lifecycle/values.js";
import { namespaceOf, releaseOf } from "../manifest-view.js";
import type { AddonPackage } from "../package-access.js";
import { valuesKey } from "../records/values-key.js";
import { helmProblem, type InstallContext } from "./install-context.js";
import { checkExpectedValues, decideAction, type InstallMode } from "./install-decision.js";
import type { PackageResult } from "./install-result.js";
import type { RunExtras } from "./install-run.js";
import { keptHasBackup } from "./installed-addon.js";

/** One package of the run: the `--tgz` one (the root) or a `--dependency-tgz`. */
export interface Member extends AddonPackage {
  root: boolean;
}

/** A package that passed its checks, with what applies to it (user values, namespace, release). */
export interface Checked {
  member: Member;
  values: UserValues;
  namespace: string;
  release: string | undefined;
  base: PackageBase;
}

type PackageBase = Omit<PackageResult, "ok" | "dryRun" | "action" | "previousVersion">;

/** Compatibility (Core, cluster) and dependencies of one package, every problem at once. */
export async function checkMember(
  member: Member,
  ctx: InstallContext,
  installed: readonly InstalledVersion[],
  values: UserValues,
  /** `--namespace`, for the `--tgz` package only. */
  namespaceOverride: string | undefined,
  skippedWarning: string | undefined,
): Promise<Checked> {
  const { addon, digest } = member;
  const { name, version } = addon.metadata;
  const warnings: string[] = [];
  const addWarning = (w: string): void => {
    warnings.push(w);
    warn(terminalLine(w));
  };
  for (const p of member.warnings) addWarning(formatProblem(p));
  const helm = helmProblem(ctx.tools, addon, ctx.dryRun);
  if (helm !== undefined) addWarning(helm);
  if (skippedWarning !== undefined) warnings.push(skippedWarning); // printed once, when the cluster was read

  const problems: Problem[] = [...checkCoreCompatibility(addon, coreVersion)];
  if (ctx.clusterInfo !== undefined) problems.push(...checkClusterCompatibility(addon, ctx.clusterInfo));
  const deps = checkDependencies(addon.spec.dependencies ?? [], installed, ctx.where);
  problems.push(...deps.problems);
  if (problems.length > 0) {
    throw new ValidationError(
      `${name} ${version} cannot be installed on ${ctx.where}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
      problems,
      {
        where: ctx.target === undefined ? member.tgz : describeTarget(ctx.target),
        hint: "each problem above says what to change; with --dry-run, --assume-installed name@version counts a dependency as installed",
      },
    );
  }
  const namespace = namespaceOf(addon, namespaceOverride);
  const release = releaseOf(addon);
  return {
    member,
    values,
    namespace,
    release,
    base: { name, version, digest, release, namespace, dependencies: deps.results, warnings },
  };
}

/** Dry run: what would be done for one checked package, and the exact commands. */
export async function planMember(
  p: Checked,
  ctx: InstallContext,
  mode: InstallMode,
  force: boolean,
  timeout: Timeout,
  extras: RunExtras,
): Promise<PackageResult> {
  const { addon, digest, opened } = p.member;
  const existing = ctx.records.find((r) => r.name === addon.metadata.name);
  const packageValues = addon.spec.chart?.values ?? [];
  // readAddonPackage extracts every package that has values files; the others are fingerprinted without a directory.
  if (opened === undefined && packageValues.length > 0) throw new Error("unreachable: a package with values files is extracted");
  const key = await valuesKey({ create: false });
  const valuesFingerprint = await fingerprintValues(key, opened?.dir ?? "", packageValues, p.values);
  checkExpectedValues(extras.expect, valuesFingerprint, force);
  const changed = existing === undefined ? [] : changedAnswers(extras.given, existing, key);
  const decision = decideAction(
    existing,
    mode,
    { version: addon.metadata.version, digest, valuesFingerprint, namespace: p.namespace, changedAnswers: changed },
    force,
  );
  if (decision.note !== undefined) {
    p.base.warnings.push(decision.note);
    warn(decision.note);
  }
  const helmTarget: HelmTarget | undefined =
    p.release === undefined
      ? undefined
      : {
          helm: ctx.tools.helm ?? UNRESOLVED.helm,
          release: p.release,
          namespace: p.namespace,
          kubeconfig: ctx.target?.kubeconfig ?? UNRESOLVED.kubeconfig,
          context: ctx.target?.context ?? UNRESOLVED.context,
        };
  const steps = decision.action === "none" ? [] : planInstall(addon, helmTarget, timeout, p.values);
  const backupFirst =
    extras.backup &&
    existing?.status === "deployed" &&
    (decision.action === "upgrade" || decision.action === "rollback") &&
    ctx.store !== undefined &&
    (await keptHasBackup(ctx.store, existing.name));
  const rendered = decision.action === "none" ? undefined : await dryRender(p, ctx);
  return {
    ok: true,
    dryRun: true,
    action: decision.action,
    previousVersion: decision.previousVersion,
    ...p.base,
    valuesFingerprint,
    impact: impactOf(addon),
    hostChanges: extras.hostChanges,
    backupFirst,
    commands: steps.map((s) => ({ step: s.name, argv: displayArgv(s, false) })),
    ...(rendered === undefined ? {} : { rendered: rendered.resources }),
  };
}

/**
 * The chart rendered as install would render it (`helm template`, the cluster's version when known):
 * a template error stops the dry run (exit 4); a helm that cannot run is a warning, like a missing one.
 */
async function dryRender(p: Checked, ctx: InstallContext): Promise<Rendered | undefined> {
  const { addon, opened } = p.member;
  if (p.release === undefined || opened === undefined || ctx.tools.helm === undefined) return undefined;
  try {
    return await renderChart({
      helm: ctx.tools.helm,
      pkgDir: opened.dir,
      addon,
      release: p.release,
      namespace: p.namespace,
      values: p.values,
      kubeVersion: ctx.clusterInfo?.version,
      label: basename(p.member.tgz),
    });
  } catch (err) {
    if (!(err instanceof StepFailedError)) throw err;
    const note = `chart not rendered: ${err.message}`;
    p.base.warnings.push(note);
    warn(note);
    return undefined;
  }
}
