/**
 * What one `addon install` run reads once, however many packages it installs:
 * the target cluster, kubectl and helm, the cluster probe (version, distro,
 * node architectures) and the install records on this cluster.
 *
 * A dry run is useful without a live cluster (like `helm template`): what it
 * could not read is kept in `skipped` and reported as a warning; a real run
 * stops on it. The target and kubectl are checked at once; the probe's failure
 * is kept for throwContextFailure, so that reading the cluster can overlap
 * reading the packages without changing which error is reported.
 */
import { InterruptedError, isPk3sError, MissingToolError } from "@productive-k3s/pkg-format/errors";
import { describeTarget, type KubeTarget, resolveKubeTarget } from "../cluster/kubeconfig.js";
import { type ClusterInfo, probeCluster } from "../cluster/probe.js";
import { resolveTools, type Tools } from "../cluster/tools.js";
import type { AddonView } from "../manifest-view.js";
import type { InstallRecord } from "../records/schema.js";
import { type ClusterStore, clusterStore, listRecords } from "../records/store.js";

export interface InstallContext {
  dryRun: boolean;
  target: KubeTarget | undefined;
  store: ClusterStore | undefined;
  tools: Tools;
  clusterInfo: ClusterInfo | undefined;
  /** Dry run only: why the cluster checks were skipped. */
  skipped: string | undefined;
  /** Why the cluster could not be read (real run, or interrupted): thrown by throwContextFailure, after the packages' errors. */
  failure: unknown;
  /** The install records on this cluster when the run started. */
  records: InstallRecord[];
  /** `cluster <server>` (or "the target cluster"), for messages. */
  where: string;
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function readInstallContext(options: {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  dryRun: boolean;
}): Promise<InstallContext> {
  const { dryRun } = options;
  let target: KubeTarget | undefined;
  let skipped: string | undefined;
  try {
    target = await resolveKubeTarget(options);
  } catch (err) {
    if (!dryRun || !isPk3sError(err)) throw err;
    skipped = err.message;
  }
  const tools = resolveTools();
  if (tools.kubectlError !== undefined) {
    if (!dryRun) {
      const e = tools.kubectlError;
      const where = target === undefined ? "" : ` to read ${describeTarget(target)}`;
      if (e instanceof MissingToolError) throw new MissingToolError("kubectl", `kubectl is needed${where}: ${e.message}`, { hint: e.hint });
      throw e;
    }
    skipped ??= messageOf(tools.kubectlError);
  }

  let clusterInfo: ClusterInfo | undefined;
  let failure: unknown;
  if (target !== undefined && tools.kubectl !== undefined) {
    try {
      clusterInfo = await probeCluster(tools.kubectl, target);
    } catch (err) {
      if (!dryRun || !isPk3sError(err) || err instanceof InterruptedError) failure = err;
      else skipped = err.message;
    }
    if (clusterInfo === undefined && skipped === undefined) failure ??= new InterruptedError("interrupted while reading the cluster");
  }
  const store = target === undefined ? undefined : clusterStore(target);
  const records = store === undefined || failure !== undefined ? [] : await listRecords(store);
  const where = target === undefined ? "the target cluster" : `cluster ${target.server}`;
  return { dryRun, target, store, tools, clusterInfo, skipped, failure, records, where };
}

/**
 * Once the packages are known: a missing helm when a package has a chart
 * (a real run stops, exit 5) comes before a cluster that could not be read.
 */
export function throwContextFailure(ctx: InstallContext, needsHelm: boolean): void {
  if (!ctx.dryRun && needsHelm && ctx.tools.helmError !== undefined) throw ctx.tools.helmError;
  if (ctx.failure !== undefined) throw ctx.failure;
}

/** The helm check for one package: a chart needs helm (a real install stops, a dry run warns); a helm-type add-on's scripts want it. */
export function helmProblem(tools: Tools, addon: AddonView, dryRun: boolean): string | undefined {
  if (tools.helmError === undefined) return undefined;
  if (addon.spec.chart !== undefined) {
    if (!dryRun) throw tools.helmError;
    return `${messageOf(tools.helmError)}; a real install would stop here (exit 5)`;
  }
  if (addon.spec.type === "helm") return "helm not found: this helm-type add-on's scripts get no PK3S_HELM_BIN";
  return undefined;
}
