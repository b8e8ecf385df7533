/**
 * `addon status <name>` and `addon list`: the install records of the target
 * cluster, enriched with `helm status -o json` where a release exists (when
 * helm or the cluster is unavailable the record alone is shown, with a note).
 */
import { NotFoundError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import type { CoreAddonList } from "@productive-k3s/pkg-format/runtime-documents";
import { describeTarget, type KubeOptions, type KubeTarget, resolveKubeTarget } from "../cluster/kubeconfig.js";
import { resolveTools, type Tools } from "../cluster/tools.js";
import { helmStatusArgs } from "../lifecycle/plan.js";
import type { InstallRecord } from "../records/schema.js";
import { clusterStore, listRecords, readRecord } from "../records/store.js";

export interface HelmReleaseStatus {
  status?: string | undefined;
  revision?: number | undefined;
  lastDeployed?: string | undefined;
  /** Why helm could not be asked. */
  error?: string | undefined;
}

export interface AddonStatus {
  name: string;
  version: string;
  status: InstallRecord["status"];
  digest: string;
  release?: string | undefined;
  namespace: string;
  failedStep?: string | undefined;
  /** Action of the last run. */
  action: InstallRecord["action"];
  /** After a failed upgrade that Helm rolled back: the version that was tried (`version` is what is on the cluster). */
  attempted?: InstallRecord["attempted"];
  installedAt: string;
  updatedAt: string;
  runLog: string;
  steps: InstallRecord["steps"];
  dependencies: InstallRecord["dependencies"];
  /** Keyed fingerprint of the values the deployed version was installed with (absent when unknown). */
  valuesFingerprint?: string | undefined;
  /** The stack (and lock file digest) that installed this version; absent when it was installed on its own. */
  stack?: InstallRecord["stack"];
  helm?: HelmReleaseStatus | undefined;
}

export interface StatusResult {
  ok: true;
  cluster: { server: string; context: string };
  addon: AddonStatus;
  record: InstallRecord;
}

/** `addon list --json`: the document Infra and pk3s read, defined once in pkg-format (runtime-documents.ts). */
export type ListResult = CoreAddonList;

/** `helm status` of the record's release (or why helm could not be asked). */
async function helmStatus(record: InstallRecord, target: KubeTarget, tools: Tools): Promise<HelmReleaseStatus | undefined> {
  if (record.release === undefined) return undefined;
  if (tools.helm === undefined) return { error: tools.helmError instanceof Error ? tools.helmError.message : String(tools.helmError) };
  const { runProcess } = await import("@productive-k3s/pkg-format/process");
  const args = helmStatusArgs({ release: record.release, namespace: record.namespace, ...target });
  const result = await runProcess(tools.helm, args, { timeoutMs: 60_000, toolName: "helm" });
  if (result.exitCode !== 0) {
    const last = result.stderr.trim().split("\n").pop() ?? `exit ${result.exitCode}`;
    return { error: last.replace(/^Error: /, "") };
  }
  try {
    const doc = JSON.parse(result.stdout) as { version?: number; info?: { status?: string; last_deployed?: string } };
    return { status: doc.info?.status, revision: doc.version, lastDeployed: doc.info?.last_deployed };
  } catch {
    return { error: "helm status did not print JSON" };
  }
}

function view(record: InstallRecord, helm: HelmReleaseStatus | undefined): AddonStatus {
  return {
    name: record.name,
    version: record.version,
    status: record.status,
    digest: record.digest,
    release: record.release,
    namespace: record.namespace,
    failedStep: record.failedStep,
    action: record.action,
    attempted: record.attempted,
    installedAt: record.installedAt,
    updatedAt: record.updatedAt,
    runLog: record.runLog,
    steps: record.steps,
    dependencies: record.dependencies,
    valuesFingerprint: record.valuesFingerprint,
    stack: record.stack,
    helm,
  };
}

export async function addonStatus(options: KubeOptions & { name: string }): Promise<StatusResult> {
  const name = assertValidName("package", options.name, "add-on name");
  const target = await resolveKubeTarget(options);
  const record = await readRecord(clusterStore(target), name);
  if (record === undefined) {
    throw new NotFoundError(`${name} is not installed on ${describeTarget(target)}`, {
      where: target.server,
      hint: "list what is installed with: productive-k3s-core addon list",
    });
  }
  return {
    ok: true,
    cluster: { server: target.server, context: target.context },
    addon: view(record, await helmStatus(record, target, resolveTools())),
    record,
  };
}

export async function listAddons(options: KubeOptions): Promise<ListResult> {
  const target = await resolveKubeTarget(options);
  const records = await listRecords(clusterStore(target));
  const tools = resolveTools();
  const addons: AddonStatus[] = [];
  for (const r of records) addons.push(view(r, await helmStatus(r, target, tools)));
  return { ok: true, cluster: { server: target.server, context: target.context }, addons };
}
