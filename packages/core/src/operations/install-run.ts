/**
 * The real run of one checked package of `addon install|upgrade`: under the
 * add-on's lock, decide from the record what to do (nothing, install,
 * upgrade), then run preInstall → helm → install → postInstall → validate in
 * the shared run lifecycle (addon-run.ts), record the result and keep the
 * package for uninstall.
 */
import { describeTarget } from "../cluster/kubeconfig.js";
import type { Timeout } from "../duration.js";
import { type HelmTarget, planInstall, scriptEnv } from "../lifecycle/plan.js";
import { fingerprintValues } from "../lifecycle/values.js";
import { readRecord, stageKeptPackage, writeRecord } from "../records/store.js";
import { valuesKey } from "../records/values-key.js";
import { runAddonSteps, withAddonLock } from "./addon-run.js";
import type { InstallContext } from "./install-context.js";
import { decideAction } from "./install-decision.js";
import type { Checked } from "./install-plan.js";
import type { PackageResult } from "./install-result.js";

export async function runInstall(
  p: Checked,
  ctx: InstallContext,
  mode: "install" | "upgrade",
  force: boolean,
  breakLock: boolean,
  timeout: Timeout,
): Promise<PackageResult> {
  const { target, store, tools } = ctx;
  // Real run: target, kubectl and (for charts) helm are resolved by readInstallContext.
  if (target === undefined || store === undefined) throw new Error("unreachable: no target outside dry-run");
  const { opened, tgz } = p.member;
  if (opened === undefined) throw new Error("unreachable: a real run extracts every package");
  const { namespace, release, values, base } = p;
  const { addon, digest } = opened;
  const { name, version, category, description } = addon.metadata;
  const command = `productive-k3s-core addon ${mode} ${name}@${version}`;
  return withAddonLock(store, name, { command, breakLock }, async (lock) => {
    const existing = await readRecord(store, name);
    const key = await valuesKey({ create: true });
    const valuesFingerprint = await fingerprintValues(key, opened.dir, addon.spec.chart?.values ?? [], values);
    const decision = decideAction(existing, mode, { version, digest, valuesFingerprint, namespace }, force);
    if (decision.note !== undefined) process.stderr.write(`${decision.note}\n`);
    if (decision.action === "none") {
      return {
        ok: true,
        dryRun: false,
        action: "none",
        previousVersion: decision.previousVersion,
        ...base,
        status: existing?.status,
        runLog: existing?.runLog,
      };
    }
    const action = decision.action;
    const incoming = await stageKeptPackage(store, name, tgz);
    const helmTarget: HelmTarget | undefined =
      release === undefined || tools.helm === undefined
        ? undefined
        : { helm: tools.helm, release, namespace, kubeconfig: target.kubeconfig, context: target.context };
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
        dependencies: (addon.spec.dependencies ?? []).map((d) => ({ name: d.name, version: d.version })),
        installedAt: existing?.installedAt ?? new Date().toISOString(),
        history: existing?.history ?? [],
      },
      context: target.context,
      headline: `${action === "upgrade" ? "Upgrading" : "Installing"} ${name} ${version} on ${describeTarget(target)}`,
      logNote: `package ${digest}`,
      steps: planInstall(addon, helmTarget, timeout, values),
      cwd: opened.dir,
      env: (step, runId) =>
        scriptEnv(
          {
            addon,
            pkgDir: opened.dir,
            namespace,
            release: release ?? name,
            target,
            helm: tools.helm,
            kubectl: tools.kubectl,
            runId,
            action,
          },
          step,
        ),
      timeout,
      helm: helmTarget,
      tempDir: opened.tempDir,
      incoming,
    });
    const record = run.recordFor(run.status, run.steps, run.failed?.step);
    if (run.status === "failed" && action === "upgrade" && existing !== undefined) {
      // Helm rolled the release back: the record and the kept package describe the version still on the cluster.
      await incoming.discard();
      await writeRecord(store, {
        ...record,
        version: existing.version,
        digest: existing.digest,
        category: existing.category,
        description: existing.description,
        valuesFingerprint: existing.valuesFingerprint,
        dependencies: existing.dependencies,
        attempted: { version, digest, runId: run.runId },
      });
    } else {
      await writeRecord(store, record, { keep: incoming });
    }
    if (run.failed !== undefined) throw run.failed.error;
    return {
      ok: true,
      dryRun: false,
      action,
      previousVersion: decision.previousVersion,
      ...base,
      status: run.status,
      steps: run.steps,
      runLog: run.logFile,
    };
  });
}
