/**
 * Which cluster an add-on is about to go to, told to the user before Core runs. The selection is the
 * one Core makes (and kubectl): @productive-k3s/pkg-format/kubeconfig. A kubeconfig problem is
 * shown, not thrown: Core reports it with its exit code when it runs.
 */
import { delimiter } from "node:path";
import { kubeconfigFiles, resolveKubeTarget } from "@productive-k3s/pkg-format/kubeconfig";

export interface ClusterTarget {
  kubeconfig: string;
  context?: string | undefined;
  server?: string | undefined;
  problem?: string | undefined;
}

export async function describeTarget(kubeconfig: string | undefined, context: string | undefined): Promise<ClusterTarget> {
  try {
    const t = await resolveKubeTarget({ kubeconfig, context });
    return { kubeconfig: t.kubeconfig, context: t.context, server: t.server };
  } catch (err) {
    const { files } = kubeconfigFiles({ kubeconfig });
    return { kubeconfig: files.join(delimiter), context, problem: err instanceof Error ? err.message : String(err) };
  }
}

export function formatTarget(t: ClusterTarget): string {
  const server = t.server ?? "unknown";
  const problem = t.problem === undefined ? "" : ` [${t.problem}]`;
  return `Target cluster: ${server} (context ${t.context ?? "unknown"}, kubeconfig ${t.kubeconfig})${problem}`;
}
