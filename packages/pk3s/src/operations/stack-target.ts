/**
 * The cluster a stack command targets (cluster-target.ts: `--kubeconfig`/
 * `--context`, or an Infra instance's `kubeconfig` output) and the Core that
 * works on it, printed as `Target cluster: …`.
 */
import { type ExitCodeValue, Pk3sError } from "@productive-k3s/pkg-format/errors";
import type { ClusterTarget } from "../delegate/kubeconfig-target.js";
import { type RuntimeCommand, requireRuntime } from "../delegate/runtime-bin.js";
import { announceTarget, type ClusterFlags, checkClusterFlags, clusterFor } from "./cluster-target.js";

export { checkClusterFlags };

export interface StackClusterFlags extends ClusterFlags {
  coreBin?: string | undefined;
}

export interface StackTarget {
  target: ClusterTarget;
  core: RuntimeCommand;
  /** Core's flags for the cluster. */
  cluster: string[];
}

/** The target; when `--instance` gives no kubeconfig, Infra's exit code is the command's (Infra said why). */
export async function stackTarget(flags: StackClusterFlags): Promise<StackTarget> {
  const resolved = await clusterFor(flags);
  if ("exitCode" in resolved) {
    throw new Pk3sError("E_RUNTIME", resolved.exitCode as ExitCodeValue, `no kubeconfig from instance ${flags.instance}`, {
      hint: "productive-k3s-infra said why above",
    });
  }
  const target = await announceTarget(resolved.kubeconfig, flags);
  return { target, core: requireRuntime("core", flags.coreBin), cluster: resolved.args };
}
