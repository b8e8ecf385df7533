/**
 * Which cluster an operation targets: selected like kubectl does by the one shared implementation
 * (@productive-k3s/pkg-format/kubeconfig: files, merge, context), plus Core's record identity.
 * Install records are kept per API server URL, so two kubeconfigs pointing at one cluster share them.
 */
import { createHash } from "node:crypto";
import {
  type KubeOptions,
  type KubeTarget as SelectedTarget,
  resolveKubeTarget as selectKubeTarget,
} from "@productive-k3s/pkg-format/kubeconfig";

export type { KubeOptions } from "@productive-k3s/pkg-format/kubeconfig";
export { describeTarget, kubeconfigArgs } from "@productive-k3s/pkg-format/kubeconfig";

export interface KubeTarget extends SelectedTarget {
  /** First 16 hex digits of sha256(server): the records directory name. */
  clusterId: string;
}

export function clusterIdOf(server: string): string {
  return createHash("sha256").update(server).digest("hex").slice(0, 16);
}

export async function resolveKubeTarget(options: KubeOptions): Promise<KubeTarget> {
  const target = await selectKubeTarget(options);
  return { ...target, clusterId: clusterIdOf(target.server) };
}
