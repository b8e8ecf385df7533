/**
 * Reading the cluster through kubectl: server version, distribution (from the
 * version string: `+k3s1` is k3s, `+rke2r1` is rke2) and node architectures.
 */
import { StepFailedError } from "@productive-k3s/pkg-format/errors";
import { runProcess } from "@productive-k3s/pkg-format/process";
import { z } from "zod";
import { describeTarget, type KubeTarget, kubeconfigArgs } from "./kubeconfig.js";

export interface ClusterInfo {
  /** e.g. `v1.31.4+k3s1` */
  version: string;
  /** `k3s`, `rke2` or `kubernetes` (anything else). */
  distro: string;
  /** Distinct node architectures, sorted. */
  architectures: string[];
  nodes: { name: string; architecture: string }[];
}

const VersionSchema = z.object({ serverVersion: z.object({ gitVersion: z.string() }).passthrough() }).passthrough();
const NodesSchema = z
  .object({
    items: z.array(
      z
        .object({
          metadata: z.object({ name: z.string(), labels: z.record(z.string(), z.string()).optional() }).passthrough(),
          status: z
            .object({ nodeInfo: z.object({ architecture: z.string() }).passthrough().optional() })
            .passthrough()
            .optional(),
        })
        .passthrough(),
    ),
  })
  .passthrough();

export function distroOf(gitVersion: string): string {
  if (/\+k3s\d*/.test(gitVersion)) return "k3s";
  if (/\+rke2/.test(gitVersion)) return "rke2";
  return "kubernetes";
}

/** kubectl's global flags selecting the target. */
export function kubectlTargetArgs(target: Pick<KubeTarget, "kubeconfig" | "context">): string[] {
  return [...kubeconfigArgs(target.kubeconfig), "--context", target.context];
}

async function kubectlJson(kubectl: string, target: KubeTarget, args: string[]): Promise<unknown> {
  const result = await runProcess(kubectl, [...kubectlTargetArgs(target), "--request-timeout", "30s", ...args], {
    toolName: "kubectl",
    timeoutMs: 60_000,
  });
  if (result.interrupted) return undefined;
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim().split("\n").filter(Boolean).pop() ?? `exit code ${result.exitCode ?? result.signal}`;
    throw new StepFailedError(`cannot reach ${describeTarget(target)}: kubectl ${args.join(" ")} failed: ${detail}`, {
      where: target.kubeconfig,
      hint: "check that the cluster is up and that the kubeconfig and --context point at it (kubectl cluster-info)",
    });
  }
  try {
    return JSON.parse(result.stdout) as unknown;
  } catch {
    throw new StepFailedError(`kubectl ${args.join(" ")} did not print JSON`, { where: target.kubeconfig });
  }
}

/** Query the cluster. Returns undefined if the run was interrupted. */
export async function probeCluster(kubectl: string, target: KubeTarget): Promise<ClusterInfo | undefined> {
  // Both questions at once: two kubectl round trips (each a process start and a request) in the time of one.
  // Both are waited for (no kubectl outlives the probe); the version's answer is judged first, so an
  // unreachable cluster is still reported by `kubectl version`, as when they ran one after the other.
  const settle = (run: Promise<unknown>): Promise<{ doc: unknown } | { error: unknown }> =>
    run.then(
      (doc) => ({ doc }),
      (error: unknown) => ({ error }),
    );
  const [versionResult, nodesResult] = await Promise.all([
    settle(kubectlJson(kubectl, target, ["version", "-o", "json"])),
    settle(kubectlJson(kubectl, target, ["get", "nodes", "-o", "json"])),
  ]);
  if ("error" in versionResult) throw versionResult.error;
  const versionDoc = versionResult.doc;
  if (versionDoc === undefined) return undefined;
  const version = VersionSchema.safeParse(versionDoc);
  if (!version.success) {
    throw new StepFailedError(`kubectl version -o json returned no serverVersion for ${describeTarget(target)}`, {
      where: target.kubeconfig,
    });
  }
  if ("error" in nodesResult) throw nodesResult.error;
  const nodesDoc = nodesResult.doc;
  if (nodesDoc === undefined) return undefined;
  const nodes = NodesSchema.safeParse(nodesDoc);
  if (!nodes.success) throw new StepFailedError("kubectl get nodes -o json returned an unexpected document", { where: target.kubeconfig });
  const nodeList = nodes.data.items.map((n) => ({
    name: n.metadata.name,
    architecture: n.status?.nodeInfo?.architecture ?? n.metadata.labels?.["kubernetes.io/arch"] ?? "unknown",
  }));
  const gitVersion = version.data.serverVersion.gitVersion;
  return {
    version: gitVersion,
    distro: distroOf(gitVersion),
    architectures: [...new Set(nodeList.map((n) => n.architecture))].sort(),
    nodes: nodeList,
  };
}
