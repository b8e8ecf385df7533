/** `profile status`, `profile outputs`, `profile list`: read the stored instance, no package needed. */
import { warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, UsageError } from "@productive-k3s/pkg-format/errors";
import { MASK } from "@productive-k3s/pkg-format/redact";
import type { InfraProfileStatus } from "@productive-k3s/pkg-format/runtime-documents";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { instanceKubeconfig } from "../cluster/instance-cluster.js";
import { engineKind } from "../engines/engine-for.js";
import { openProfile } from "../profile/opened-profile.js";
import {
  checkedInstanceName,
  type InstanceRecord,
  type InstanceStatus,
  inspectInstanceLock,
  instancePaths,
  instanceWhere,
  listInstanceNames,
  packageCopyFile,
  readInstance,
  readSensitiveOutputs,
} from "../state/instance-store.js";

async function loadRecord(instance: string): Promise<InstanceRecord> {
  const paths = instancePaths(checkedInstanceName(instance));
  const record = await readInstance(paths);
  if (record === undefined) {
    throw new NotFoundError(`no instance named ${instance}`, {
      where: await instanceWhere(paths),
      hint: "list instances with: productive-k3s-infra profile list",
    });
  }
  return record;
}

/** `running` only while the lock's holder is alive; a dead holder (or no lock) means the run was interrupted. */
export async function effectiveStatus(instance: string, record: InstanceRecord): Promise<InstanceStatus> {
  if (record.status !== "running") return record.status;
  const lock = await inspectInstanceLock(instancePaths(instance));
  return lock.state === "held" ? "running" : "interrupted";
}

export async function instanceFromOptions(options: { instance?: string | undefined; tgz?: string | undefined }): Promise<string> {
  if (options.instance !== undefined) return checkedInstanceName(options.instance);
  if (options.tgz === undefined) throw new UsageError("name the instance with --instance (or give --tgz to use the profile's name)");
  const profile = await openProfile(options.tgz);
  try {
    return profile.manifest.metadata.name;
  } finally {
    await profile.cleanup();
  }
}

/** `profile status --json` without `ok`: the document pk3s reads, defined once in pkg-format (runtime-documents.ts). */
export type StatusResult = Omit<InfraProfileStatus, "ok">;

/** The add-ons Core has installed on the instance's cluster, or why they are unknown. */
async function addonsView(kubeconfig: string): Promise<Pick<StatusResult, "addons" | "addonsNote">> {
  const { listClusterAddons } = await import("../cluster/core-client.js");
  const found = await listClusterAddons(kubeconfig);
  if (found.state === "unknown") return { addonsNote: found.note };
  return {
    addons: {
      cluster: found.list.cluster,
      items: found.list.addons.map((a) => ({
        name: a.name,
        version: a.version,
        status: a.status,
        namespace: a.namespace,
        ...(a.release === undefined ? {} : { release: a.release }),
        dependencies: a.dependencies.map((d) => d.name),
      })),
    },
  };
}

/**
 * Run spec.execution.statusScript from the stored package (read-only: no lock,
 * no run record) with the stored inputs and outputs in its environment.
 * Sensitive inputs are not available to it (they are never stored).
 */
async function runStatusScript(instance: string, record: InstanceRecord): Promise<StatusResult["check"]> {
  const paths = instancePaths(instance);
  const packageFile = await packageCopyFile(paths);
  const profile = packageFile === undefined ? undefined : await openProfile(packageFile).catch(() => undefined);
  if (profile === undefined) return undefined;
  try {
    const script = profile.manifest.spec.execution?.statusScript;
    if (script === undefined) return undefined;
    const { access, constants } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { runProcess } = await import("@productive-k3s/pkg-format/process");
    const { SecretSet, redactError } = await import("../secrets.js");
    const { outputsEnv } = await import("../engines/outputs-file.js");
    const sensitive = await readSensitiveOutputs(paths);
    const secrets = new SecretSet(Object.values(sensitive).map((v) => (typeof v === "string" ? v : JSON.stringify(v))));
    const path = join(profile.root, script);
    const direct = await access(path, constants.X_OK).then(
      () => true,
      () => false,
    );
    const result = await runProcess(direct ? path : "bash", direct ? [] : [path], {
      cwd: profile.root,
      env: {
        ...record.inputs,
        ...outputsEnv({ ...record.outputs, ...sensitive }),
        PK3S_INSTANCE: instance,
        PK3S_ACTION: "status",
        PK3S_PROFILE_NAME: record.profile.name,
        PK3S_PROFILE_VERSION: record.profile.version,
        PK3S_PACKAGE_ROOT: profile.root,
        PK3S_ENGINE_STATE_DIR: paths.engineDir,
      },
      redact: secrets.redact,
      timeoutMs: 60_000,
      toolName: script,
    }).catch((err: unknown) => {
      throw redactError(err, secrets.redact);
    });
    // Redacted as a whole too: a multi-line sensitive output (a kubeconfig, a PEM key) spans the captured lines.
    return { script, exitCode: result.exitCode, output: secrets.redact(`${result.stdout}${result.stderr}`).trimEnd() };
  } finally {
    await profile.cleanup();
  }
}

export async function profileStatus(options: {
  instance?: string | undefined;
  tgz?: string | undefined;
  check?: boolean;
}): Promise<StatusResult> {
  const instance = await instanceFromOptions(options);
  const record = await loadRecord(instance);
  const status = await effectiveStatus(instance, record);
  const paths = instancePaths(instance);
  const { resources } = (await engineKind(record.engine)?.stateSummary(paths.engineDir)) ?? {};
  const outputs: Record<string, unknown> = { ...record.outputs };
  for (const name of record.sensitiveOutputs) outputs[name] = MASK;
  const lastRun = record.runs.at(-1);
  // The one runtime view: what Core installed on the cluster this instance provisioned.
  const kubeconfig = status === "destroyed" ? undefined : await instanceKubeconfig(record, paths);
  return {
    instance,
    profile: record.profile.name,
    version: record.profile.version,
    digest: record.digest,
    engine: record.engine,
    scenario: record.scenario,
    status,
    ...(status === "interrupted" && record.current ? { interruptedRun: record.current.runId } : {}),
    ...(status === "running" && record.current ? { currentRun: record.current } : {}),
    inputs: record.inputs,
    sensitiveInputs: record.sensitiveInputs,
    outputs,
    sensitiveOutputs: record.sensitiveOutputs,
    ...(record.plan
      ? {
          plan: {
            runId: record.plan.runId,
            createdAt: record.plan.createdAt,
            ...(record.plan.changes ? { changes: record.plan.changes } : {}),
          },
        }
      : {}),
    ...(resources === undefined ? {} : { resources }),
    ...(lastRun === undefined
      ? {}
      : { lastRun: status === "interrupted" && lastRun.status === "running" ? { ...lastRun, status: "interrupted" } : lastRun }),
    runs: record.runs.length,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.installedAt ? { installedAt: record.installedAt } : {}),
    ...(record.destroyedAt ? { destroyedAt: record.destroyedAt } : {}),
    stateDir: paths.dir,
    ...(status === "installed" && options.check !== false
      ? await runStatusScript(instance, record).then((check) => (check === undefined ? {} : { check }))
      : {}),
    ...(kubeconfig === undefined ? {} : await addonsView(kubeconfig)),
  };
}

export async function profileOutputs(options: {
  instance: string;
  showSensitive?: boolean;
}): Promise<{ instance: string; outputs: Record<string, unknown>; sensitive: string[] }> {
  const record = await loadRecord(options.instance);
  const outputs: Record<string, unknown> = { ...record.outputs };
  if (record.sensitiveOutputs.length > 0) {
    const secret = options.showSensitive === true ? await readSensitiveOutputs(instancePaths(options.instance)) : {};
    for (const name of record.sensitiveOutputs) outputs[name] = options.showSensitive === true ? (secret[name] ?? null) : MASK;
    const elsewhere = options.showSensitive === true ? record.sensitiveOutputs.filter((n) => !(n in secret)) : [];
    if (elsewhere.length > 0) {
      // Sensitive outputs never go to a shared state database: they stay on the machine whose run produced them.
      const host = record.runs.findLast((r) => r.action === "install" && r.status === "succeeded")?.host;
      warn(
        terminalLine(
          `sensitive outputs are kept only on the machine that installed the instance${host === undefined ? "" : ` (${host})`}: ${elsewhere.join(", ")}`,
        ),
      );
    }
  }
  return { instance: options.instance, outputs, sensitive: record.sensitiveOutputs };
}

export interface ListEntry {
  instance: string;
  profile: string;
  version: string;
  engine: string;
  status: InstanceStatus;
  updatedAt: string;
}

export async function listInstances(): Promise<{ instances: ListEntry[] }> {
  const instances: ListEntry[] = [];
  for (const name of await listInstanceNames()) {
    const record = await readInstance(instancePaths(name)).catch(() => undefined);
    if (record === undefined) continue;
    instances.push({
      instance: name,
      profile: record.profile.name,
      version: record.profile.version,
      engine: record.engine,
      status: await effectiveStatus(name, record),
      updatedAt: record.updatedAt,
    });
  }
  return { instances };
}
