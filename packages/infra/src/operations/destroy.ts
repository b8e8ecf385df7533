/**
 * `profile destroy`: tear down what install created, from the stored package
 * (or `--tgz`), with the stored non-sensitive inputs (sensitive ones must be
 * passed again: they were never stored). The instance is marked destroyed and
 * its state kept until `--purge`.
 *
 * The add-ons Core installed on the instance's cluster (its `kubeconfig`
 * output) would outlive it as records: destroy refuses (exit 4, listing them)
 * unless `--with-addons` (uninstall them through Core first, dependents
 * before their dependencies) or `--forget-addons` (drop Core's records: the
 * add-ons go with the cluster). Without Core, or when Core cannot list them,
 * a warning says the add-ons are unknown and destroy proceeds.
 */
import { access } from "node:fs/promises";
import { log, warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { ClusterAddons } from "../cluster/core-client.js";
import { instanceKubeconfig } from "../cluster/instance-cluster.js";
import { engineFor } from "../engines/engine-for.js";
import { type EngineRun, runStep } from "../engines/engine-run.js";
import { runScript } from "../engines/script.js";
import { openProfile } from "../profile/opened-profile.js";
import {
  checkedInstanceName,
  type InstanceRecord,
  instancePaths,
  instanceWhere,
  lockInstanceState,
  packageCopyFile,
  purgeInstance,
  readInstance,
  writeSensitiveOutputs,
} from "../state/instance-store.js";
import { approveOrThrow, assertApprovalPossible } from "./confirm.js";
import { withInstanceRun } from "./instance-run.js";
import { printWarnings } from "./prepare.js";
import { assertNoProblems, resolveInputs } from "./resolve-inputs.js";

export interface DestroyOptions {
  instance: string;
  tgz?: string | undefined;
  envFiles?: string[];
  sets?: string[];
  autoApprove?: boolean;
  purge?: boolean;
  breakLock?: boolean;
  echo?: boolean;
  /** What to do with the add-ons Core installed on the instance's cluster (default: refuse while there are any). */
  addons?: AddonsOnDestroy;
}

export type AddonsOnDestroy = "refuse" | "uninstall" | "forget";

export interface DestroyResult {
  instance: string;
  profile: string;
  status: "destroyed" | "purged";
  runId?: string;
  purged: boolean;
  note?: string;
  /** The add-ons uninstalled (`--with-addons`) or forgotten (`--forget-addons`) through Core, in that order. */
  addons?: { action: "uninstalled" | "forgotten"; names: string[] };
}

/** The cluster's add-ons as Core lists them; `undefined` when the instance reports no kubeconfig. */
async function clusterAddons(record: InstanceRecord, instance: string): Promise<{ kubeconfig: string; found: ClusterAddons } | undefined> {
  const kubeconfig = await instanceKubeconfig(record, instancePaths(instance));
  if (kubeconfig === undefined) return undefined;
  const { listClusterAddons } = await import("../cluster/core-client.js");
  return { kubeconfig, found: await listClusterAddons(kubeconfig) };
}

/** Refuse (exit 4, with the list) while Core has add-on records for the cluster, unless told what to do with them. */
function refuseWhileAddons(instance: string, found: ClusterAddons, mode: AddonsOnDestroy): void {
  if (found.state === "unknown") {
    // The note may quote the kubeconfig path, which a package's outputs chose: terminal-safe.
    warn(terminalLine(`${found.note}; destroying anyway (Core's records for the cluster, if any, are left as they are)`));
    return;
  }
  if (mode !== "refuse" || found.list.addons.length === 0) return;
  const names = found.list.addons.map((a) => a.name);
  throw new ValidationError(
    `instance ${instance}'s cluster still has add-ons installed through productive-k3s-core: ${names.join(", ")}`,
    found.list.addons.map((a) => ({
      path: a.name,
      severity: "error" as const,
      message: `${a.name} ${a.version} (${a.status}) in namespace ${a.namespace} on ${terminalLine(found.list.cluster.server)}`,
    })),
    {
      where: terminalLine(found.list.cluster.server),
      hint: "uninstall them first with --with-addons, or drop Core's records with --forget-addons (the add-ons go with the cluster)",
    },
  );
}

/** Uninstall (or forget) every add-on on the cluster through Core, dependents first; each is a step of the run. */
async function removeAddons(run: EngineRun, kubeconfig: string, mode: "uninstall" | "forget"): Promise<string[]> {
  const { findCore, coreCommand, coreEnv, listClusterAddons } = await import("../cluster/core-client.js");
  const { removalOrder } = await import("../cluster/removal-order.js");
  const found = findCore();
  const listed = await listClusterAddons(kubeconfig);
  if ("note" in found || listed.state === "unknown") return [];
  const order = removalOrder(listed.list.addons);
  for (const name of order) {
    const { file, args } = coreCommand(found.core, ["addon", mode, name, "--kubeconfig", kubeconfig]);
    // Core gets the caller's environment (its state dir, tools) and state backend, never the profile's inputs.
    await runStep(run, `addon-${mode} ${name}`, file, args, { cwd: process.cwd(), env: await coreEnv(), toolName: found.core.binName });
  }
  return order;
}

async function purge(instance: string, breakLock: boolean): Promise<void> {
  const paths = instancePaths(instance);
  const lock = await lockInstanceState(paths, { command: "profile destroy --purge", breakLock });
  try {
    await purgeInstance(paths);
  } finally {
    // The local lock file went with the directory; a PostgreSQL lock is released here.
    await lock.release();
  }
}

export async function destroyProfile(options: DestroyOptions): Promise<DestroyResult> {
  const instance = checkedInstanceName(options.instance);
  const paths = instancePaths(instance);
  const record = await readInstance(paths);
  if (record === undefined) {
    throw new NotFoundError(`no instance named ${instance}`, {
      where: await instanceWhere(paths),
      hint: "list instances with: productive-k3s-infra profile list",
    });
  }
  const autoApprove = options.autoApprove === true;
  if (record.status === "destroyed") {
    if (options.purge === true) {
      assertApprovalPossible(autoApprove, `purge of instance ${instance}`);
      await approveOrThrow(autoApprove, `Remove all state of instance ${instance}?`, "purge");
      await purge(instance, options.breakLock === true);
      return {
        instance,
        profile: record.profile.name,
        status: "purged",
        purged: true,
        note: "the instance was already destroyed; its state was removed",
      };
    }
    return {
      instance,
      profile: record.profile.name,
      status: "destroyed",
      purged: false,
      note: "the instance is already destroyed (use --purge to remove its state)",
    };
  }
  assertApprovalPossible(autoApprove, `destroy of instance ${instance}`);
  const tgz = options.tgz ?? (await packageCopyFile(paths));
  const found =
    tgz !== undefined &&
    (await access(tgz).then(
      () => true,
      () => false,
    ));
  if (tgz === undefined || !found) {
    throw new NotFoundError(`the package of instance ${instance} is not in its state${tgz === undefined ? "" : ` (${tgz})`}`, {
      where: await instanceWhere(paths),
      hint: "pass the package with --tgz",
    });
  }
  const profile = await openProfile(tgz);
  try {
    const m = profile.manifest;
    if (m.metadata.name !== record.profile.name) {
      throw new UsageError(`${tgz} is profile ${m.metadata.name}, but instance ${instance} runs ${record.profile.name}`, {
        hint: "pass the instance's own package, or omit --tgz",
      });
    }
    const engine = engineFor(m);
    const resolved = await resolveInputs(
      profile,
      { stored: record.inputs, envFiles: options.envFiles ?? [], sets: options.sets ?? [] },
      engine,
    );
    printWarnings(resolved.warnings);
    const notGiven = record.sensitiveInputs.filter((n) => (resolved.merged.values[n] ?? "") === "");
    if (notGiven.length > 0) {
      warn(
        `sensitive and undeclared inputs are never stored: pass ${notGiven.join(", ")} again (--env-file or --set) if the profile needs them`,
      );
    }
    assertNoProblems(profile, resolved);
    engine.tool();
    const mode = options.addons ?? "refuse";
    const cluster = await clusterAddons(record, instance);
    if (cluster !== undefined) refuseWhileAddons(instance, cluster.found, mode);
    const pending = cluster?.found.state === "listed" ? cluster.found.list.addons.map((a) => a.name) : [];
    const first =
      mode === "refuse" || pending.length === 0
        ? ""
        : ` (first ${mode === "uninstall" ? "uninstalling" : "forgetting"} its add-ons through productive-k3s-core: ${pending.join(", ")})`;
    const out = await withInstanceRun(
      { instance, action: "destroy", profile, resolved, breakLock: options.breakLock === true, echo: options.echo !== false },
      async ({ run, record: rec }) => {
        await approveOrThrow(autoApprove, `Destroy instance ${instance}${first}?`, "destroy");
        const removed =
          mode === "refuse" || cluster === undefined || pending.length === 0 ? [] : await removeAddons(run, cluster.kubeconfig, mode);
        const destroyScript = m.spec.execution?.destroyScript;
        if (destroyScript !== undefined) await runScript(run, destroyScript, "destroy-script", run.storedOutputs);
        const { note } = await engine.destroy(run, { destroyScriptRan: destroyScript !== undefined });
        if (note !== undefined) warn(note);
        rec.outputs = {};
        rec.sensitiveOutputs = [];
        await writeSensitiveOutputs(run.paths, {});
        rec.plan = undefined;
        rec.destroyedAt = new Date().toISOString();
        const addons: Pick<DestroyResult, "addons"> =
          removed.length === 0 ? {} : { addons: { action: mode === "uninstall" ? "uninstalled" : "forgotten", names: removed } };
        return { status: "destroyed", result: { ...(note === undefined ? {} : { note }), ...addons } };
      },
    );
    if (options.purge === true) {
      await purge(instance, false);
      log(`removed the state of instance ${instance}`);
    }
    return {
      instance,
      profile: m.metadata.name,
      runId: out.runId,
      status: options.purge === true ? "purged" : "destroyed",
      purged: options.purge === true,
      ...(out.note === undefined ? {} : { note: out.note }),
      ...(out.addons === undefined ? {} : { addons: out.addons }),
    };
  } finally {
    await profile.cleanup();
  }
}
