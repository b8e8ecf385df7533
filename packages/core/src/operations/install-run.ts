/**
 * The real run of one checked package of `addon install|upgrade|rollback`:
 * under the add-on's lock, decide from the record what to do (nothing,
 * install, upgrade, rollback), back the installed version up first (an
 * upgrade or rollback), then run configure → preInstall → helm → install →
 * postInstall → validate in the shared run lifecycle (addon-run.ts), record
 * the result as a revision and keep the package (for uninstall and rollback).
 */
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { describeTarget } from "../cluster/kubeconfig.js";
import type { Answers } from "../contract/answers.js";
import { changedAnswers } from "../contract/answers.js";
import { scriptEnv } from "../contract/script-env.js";
import type { Timeout } from "../duration.js";
import { type HostChanges, hostChangesAllowed, impactOf } from "../lifecycle/impact.js";
import { type HelmTarget, planInstall } from "../lifecycle/plan.js";
import { fingerprintValues } from "../lifecycle/values.js";
import { keptPackages } from "../records/retention.js";
import type { InstallRecord, StackRef, StepRecord } from "../records/schema.js";
import { readRecord, revisionPackagesAfter, stageKeptPackage, writeRecord } from "../records/store.js";
import { valuesKey } from "../records/values-key.js";
import { runAddonSteps, withAddonLock } from "./addon-run.js";
import { type BackupInfo, takeBackup } from "./backup.js";
import { answersWithoutConfigure, type ConfiguredAnswers, configureSession } from "./install-configure.js";
import type { InstallContext } from "./install-context.js";
import { checkExpectedValues, decideAction, type ExpectedValues, type InstallMode } from "./install-decision.js";
import type { Checked } from "./install-plan.js";
import type { PackageResult } from "./install-result.js";

/** What a run brings beyond the checked package. */
export interface RunExtras {
  /** Configure answers given for this package. */
  given: Answers;
  hostChanges: HostChanges;
  /** configure may ask on the terminal. */
  interactive: boolean;
  /** Back the installed version up before an upgrade or rollback (`--no-backup` turns it off). */
  backup: boolean;
  /** Rollback: the values must be the revision's (same values fingerprint) unless forced. */
  expect?: ExpectedValues | undefined;
  /** `--stack`: recorded as what installed this version (absent: installed on its own). */
  stack?: StackRef | undefined;
}

/** A failed configure that exited 4 was given an invalid answer. */
function configureError(steps: StepRecord[], name: string): Error | undefined {
  const step = steps.find((s) => s.name === "configure");
  if (step?.exitCode !== 4) return undefined;
  return new ValidationError(`${name}: configure was given an invalid answer: ${step.error ?? ""}`, [], {
    hint: "see the answer named in the configure output above",
  });
}

/** The digests whose packages rollback keeps: the installed one, then the latest deployed revisions. */
function keptDigests(record: InstallRecord): string[] {
  const out = [record.digest];
  for (const h of [...record.history].reverse()) if (h.status === "deployed" && !out.includes(h.digest)) out.push(h.digest);
  return out.slice(0, keptPackages());
}

export async function runInstall(
  p: Checked,
  ctx: InstallContext,
  mode: InstallMode,
  force: boolean,
  breakLock: boolean,
  timeout: Timeout,
  extras: RunExtras,
): Promise<PackageResult> {
  const { target, store, tools } = ctx;
  // Real run: target, kubectl and (for charts) helm are resolved by readInstallContext.
  if (target === undefined || store === undefined) throw new Error("unreachable: no target outside dry-run");
  const { opened, tgz } = p.member;
  if (opened === undefined) throw new Error("unreachable: a real run extracts every package");
  const { namespace, release, values, base } = p;
  const { addon, digest } = opened;
  const { name, version, category, description } = addon.metadata;
  const impact = impactOf(addon);
  const command = `productive-k3s-core addon ${mode} ${name}@${version}`;
  return withAddonLock(store, name, { command, breakLock }, async (lock) => {
    const existing = await readRecord(store, name);
    const key = (await valuesKey({ create: true })) as Buffer;
    const valuesFingerprint = await fingerprintValues(key, opened.dir, addon.spec.chart?.values ?? [], values);
    checkExpectedValues(extras.expect, valuesFingerprint, force);
    const changed = existing === undefined ? [] : changedAnswers(extras.given, existing, key);
    const decision = decideAction(existing, mode, { version, digest, valuesFingerprint, namespace, changedAnswers: changed }, force);
    if (decision.note !== undefined) process.stderr.write(`${decision.note}\n`);
    const common = { ...base, impact, hostChanges: extras.hostChanges };
    if (decision.action === "none") {
      return {
        ok: true,
        dryRun: false,
        action: "none",
        previousVersion: decision.previousVersion,
        ...common,
        valuesFingerprint,
        status: existing?.status,
        runLog: existing?.runLog,
      };
    }
    const action = decision.action;
    if (impact?.host === true && !hostChangesAllowed(extras.hostChanges)) {
      throw new Error("unreachable: host changes are settled before any package runs");
    }

    let backup: BackupInfo | undefined;
    if (extras.backup && existing?.status === "deployed" && action !== "install") {
      backup = await takeBackup({ installed: { target, store, record: existing }, tools, reason: action, timeout });
    }

    const incoming = await stageKeptPackage(store, name, tgz);
    const session =
      addon.spec.configure === undefined
        ? undefined
        : await configureSession({ run: opened.run, name, given: extras.given, recorded: existing, interactive: extras.interactive });
    let configured: ConfiguredAnswers = answersWithoutConfigure(extras.given, key);
    const helmTarget: HelmTarget | undefined =
      release === undefined || tools.helm === undefined
        ? undefined
        : { helm: tools.helm, release, namespace, kubeconfig: target.kubeconfig, context: target.context };
    const steps = planInstall(addon, helmTarget, timeout, values).map((s) =>
      s.name === "configure" && extras.interactive ? { ...s, stdin: "inherit" as const } : s,
    );
    const run = await runAddonSteps({
      store,
      lock,
      action,
      base: {
        schemaVersion: 1,
        name,
        version,
        digest,
        ...(category === undefined ? {} : { category }),
        ...(description === undefined ? {} : { description }),
        ...(release === undefined ? {} : { release }),
        namespace,
        valuesFingerprint,
        values: { files: values.files, setKeys: values.sets.map((s) => s.slice(0, s.indexOf("="))) },
        distro: ctx.clusterInfo?.distro,
        dependencies: (addon.spec.dependencies ?? []).map((d) => ({ name: d.name, version: d.version })),
        installedAt: existing?.installedAt ?? new Date().toISOString(),
        ...(extras.stack === undefined ? {} : { stack: extras.stack }),
        history: existing?.history ?? [],
      },
      late: () => configured.record,
      context: target.context,
      headline: `${{ install: "Installing", upgrade: "Upgrading", rollback: "Rolling back" }[action]} ${name} ${version} on ${describeTarget(target)}`,
      logNote: `package ${digest}`,
      steps,
      cwd: opened.dir,
      env: (step, runId) => ({
        ...scriptEnv(
          {
            addon,
            run: opened.run,
            namespace,
            release: release ?? name,
            target,
            helm: tools.helm,
            kubectl: tools.kubectl,
            runId,
            action,
            distro: ctx.clusterInfo?.distro,
            // The package this run installs is not in place yet (what published configure scripts ask about).
            present: false,
            allowHostChanges: hostChangesAllowed(extras.hostChanges),
            answers: step === "configure" ? {} : configured.answers,
          },
          step,
        ),
        ...(step === "configure" ? session?.env : {}),
      }),
      timeout,
      helm: helmTarget,
      tempDir: opened.tempDir,
      incoming,
      afterPrelude: async () => {
        if (session !== undefined) configured = await session.finish(key);
      },
      preludeError: (_failed, done) => configureError(done, name),
    }).catch(async (err: unknown) => {
      await incoming.discard();
      throw err;
    });
    const record = run.recordFor(run.status, run.steps, run.failed?.step);
    if (run.status === "failed" && action !== "install" && existing !== undefined) {
      // Helm rolled the release back: the record and the kept package describe the version still on the cluster.
      await incoming.discard();
      await writeRecord(store, {
        ...record,
        version: existing.version,
        digest: existing.digest,
        category: existing.category,
        description: existing.description,
        valuesFingerprint: existing.valuesFingerprint,
        values: existing.values,
        answers: existing.answers,
        sensitiveAnswers: existing.sensitiveAnswers,
        revision: existing.revision,
        dependencies: existing.dependencies,
        stack: existing.stack,
        attempted: { version, digest, runId: run.runId },
      });
    } else {
      // A deployed run's package also joins the revision packages (rollback), past the limit they go: one transaction.
      const revision = run.status === "deployed" ? revisionPackagesAfter(record, keptDigests(record)) : undefined;
      await writeRecord(store, record, { keep: incoming, ...(revision === undefined ? {} : { revision }) });
    }
    if (run.failed !== undefined) throw run.failed.error;
    return {
      ok: true,
      dryRun: false,
      action,
      previousVersion: decision.previousVersion,
      ...common,
      valuesFingerprint,
      status: run.status,
      revision: record.revision,
      configure: configured.shown,
      ...(backup === undefined ? {} : { backup }),
      steps: run.steps,
      runLog: run.logFile,
    };
  });
}
