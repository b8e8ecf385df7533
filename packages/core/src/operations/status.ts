/**
 * `addon status <name>` and `addon list`: the install records of the target
 * cluster, enriched with `helm status -o json` where a release exists (when
 * helm or the cluster is unavailable the record alone is shown, with a note).
 */
import { NotFoundError } from "@productive-k3s/pkg-format/errors";
import { formatColumns } from "@productive-k3s/pkg-format/text-table";
import { describeTarget, type KubeOptions, type KubeTarget, resolveKubeTarget } from "../cluster/kubeconfig.js";
import { helmStatusArgs } from "../lifecycle/plan.js";
import type { InstallRecord } from "../records/schema.js";
import { clusterStore, listRecords, readRecord } from "../records/store.js";
import { HELM_INSTALL_HINT } from "./tools.js";

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
  helm?: HelmReleaseStatus | undefined;
}

export interface StatusResult {
  ok: true;
  cluster: { server: string; context: string };
  addon: AddonStatus;
  record: InstallRecord;
}

export interface ListResult {
  ok: true;
  cluster: { server: string; context: string };
  addons: AddonStatus[];
}

async function helmStatus(record: InstallRecord, target: KubeTarget): Promise<HelmReleaseStatus | undefined> {
  if (record.release === undefined) return undefined;
  const { resolveTool, runProcess } = await import("@productive-k3s/pkg-format/process");
  let helm: string;
  try {
    helm = resolveTool("helm", "PK3S_HELM_BIN", HELM_INSTALL_HINT);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  const result = await runProcess(helm, helmStatusArgs({ release: record.release, namespace: record.namespace, ...target }), {
    timeoutMs: 60_000,
    toolName: "helm",
  });
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
    helm,
  };
}

export async function addonStatus(options: KubeOptions & { name: string }): Promise<StatusResult> {
  const target = await resolveKubeTarget(options);
  const record = await readRecord(clusterStore(target), options.name);
  if (record === undefined) {
    throw new NotFoundError(`${options.name} is not installed on ${describeTarget(target)}`, {
      where: target.server,
      hint: "list what is installed with: productive-k3s-core addon list",
    });
  }
  return {
    ok: true,
    cluster: { server: target.server, context: target.context },
    addon: view(record, await helmStatus(record, target)),
    record,
  };
}

export async function listAddons(options: KubeOptions): Promise<ListResult> {
  const target = await resolveKubeTarget(options);
  const records = await listRecords(clusterStore(target));
  const addons: AddonStatus[] = [];
  for (const r of records) addons.push(view(r, await helmStatus(r, target)));
  return { ok: true, cluster: { server: target.server, context: target.context }, addons };
}

function helmText(h: HelmReleaseStatus | undefined): string {
  if (h === undefined) return "-";
  if (h.error !== undefined) return `unknown (${h.error})`;
  return `${h.status ?? "?"} rev ${h.revision ?? "?"}`;
}

export function formatStatus(r: StatusResult): string {
  const a = r.addon;
  const lines = [
    `${a.name} ${a.version}: ${a.status}${a.failedStep === undefined ? "" : ` (at step ${a.failedStep})`}`,
    `  cluster:   ${r.cluster.server} (context ${r.cluster.context})`,
    ...(a.attempted === undefined
      ? []
      : [`  attempted: upgrade to ${a.attempted.version} failed and was rolled back (run ${a.attempted.runId})`]),
    `  digest:    ${a.digest}`,
    `  namespace: ${a.namespace}`,
  ];
  if (a.release !== undefined) lines.push(`  release:   ${a.release} (helm: ${helmText(a.helm)})`);
  lines.push(`  steps:     ${a.steps.map((s) => `${s.name} ${s.status}`).join(", ") || "none"}`);
  if (a.dependencies.length > 0) lines.push(`  depends:   ${a.dependencies.map((d) => `${d.name} ${d.version}`).join(", ")}`);
  lines.push(`  updated:   ${a.updatedAt}`, `  run log:   ${a.runLog}`);
  return lines.join("\n");
}

export function formatList(r: ListResult): string {
  if (r.addons.length === 0) return `No add-ons installed on ${r.cluster.server} (context ${r.cluster.context}).`;
  const rows = [["NAME", "VERSION", "STATUS", "NAMESPACE", "RELEASE", "HELM"]];
  for (const a of r.addons) rows.push([a.name, a.version, a.status, a.namespace, a.release ?? "-", helmText(a.helm)]);
  return formatColumns(rows);
}
