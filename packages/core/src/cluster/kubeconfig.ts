/**
 * Which cluster an operation targets: the kubeconfig file and context chosen
 * like kubectl does (`--kubeconfig`, else the first path of `KUBECONFIG`, else
 * `~/.kube/config`; `--context`, else `current-context`), and the cluster's
 * identity, which is the API server URL of that context. Install records are
 * kept per identity, so two kubeconfigs pointing at one cluster share them.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { NotFoundError, StepFailedError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { parse } from "yaml";
import { z } from "zod";

export interface KubeOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export interface KubeTarget {
  /** Absolute path of the kubeconfig file. */
  kubeconfig: string;
  /** How the file was chosen, for error messages. */
  kubeconfigSource: "--kubeconfig" | "KUBECONFIG" | "default";
  context: string;
  /** API server URL of the context's cluster: the cluster's identity. */
  server: string;
  /** First 16 hex digits of sha256(server): the records directory name. */
  clusterId: string;
}

const KubeconfigSchema = z.object({
  clusters: z.array(z.object({ name: z.string(), cluster: z.object({ server: z.string().min(1) }).passthrough() }).passthrough()).nullish(),
  contexts: z.array(z.object({ name: z.string(), context: z.object({ cluster: z.string() }).passthrough() }).passthrough()).nullish(),
  "current-context": z.string().nullish(),
});

/** The kubeconfig path kubectl would use, and where that choice came from. */
export function kubeconfigPath(options: KubeOptions): { path: string; source: KubeTarget["kubeconfigSource"] } {
  if (options.kubeconfig !== undefined && options.kubeconfig !== "") return { path: resolve(options.kubeconfig), source: "--kubeconfig" };
  const fromEnv = (process.env.KUBECONFIG ?? "").split(delimiter).find((p) => p !== "");
  if (fromEnv !== undefined) return { path: resolve(fromEnv), source: "KUBECONFIG" };
  return { path: join(homedir(), ".kube", "config"), source: "default" };
}

export function clusterIdOf(server: string): string {
  return createHash("sha256").update(server).digest("hex").slice(0, 16);
}

function describeSource(path: string, source: KubeTarget["kubeconfigSource"]): string {
  if (source === "--kubeconfig") return `${path} (from --kubeconfig)`;
  if (source === "KUBECONFIG") return `${path} (from KUBECONFIG)`;
  return `${path} (default; set KUBECONFIG or pass --kubeconfig)`;
}

/**
 * Resolve the target cluster. A missing kubeconfig given with --kubeconfig is
 * "not found" (exit 3); no kubeconfig at all means no cluster to talk to (exit 1).
 */
export async function resolveKubeTarget(options: KubeOptions): Promise<KubeTarget> {
  const { path, source } = kubeconfigPath(options);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = `cannot read kubeconfig ${describeSource(path, source)}: ${code === "ENOENT" ? "no such file" : String(code)}`;
    const hint = "point --kubeconfig (or KUBECONFIG) at the cluster's kubeconfig, e.g. /etc/rancher/k3s/k3s.yaml on a k3s server";
    if (source === "--kubeconfig") throw new NotFoundError(message, { where: path, hint });
    throw new StepFailedError(`no cluster to talk to: ${message}`, { where: path, hint });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ValidationError(`kubeconfig ${path} is not valid YAML`, [
      { file: path, message: err instanceof Error ? err.message : String(err), severity: "error" },
    ]);
  }
  const parsed = KubeconfigSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    throw new ValidationError(
      `kubeconfig ${path} is not a valid kubeconfig`,
      parsed.error.issues.map((i) => ({ file: path, path: i.path.join("."), message: i.message, severity: "error" as const })),
    );
  }
  const config = parsed.data;
  const contexts = config.contexts ?? [];
  const contextName = options.context !== undefined && options.context !== "" ? options.context : (config["current-context"] ?? "");
  if (contextName === "") {
    throw new ValidationError(`kubeconfig ${path} has no current-context`, [], {
      where: path,
      hint: `pass --context (one of: ${contexts.map((c) => c.name).join(", ") || "none defined"})`,
    });
  }
  const context = contexts.find((c) => c.name === contextName);
  if (context === undefined) {
    throw new NotFoundError(`context "${contextName}" not found in kubeconfig ${path}`, {
      where: path,
      hint: `available contexts: ${contexts.map((c) => c.name).join(", ") || "none"}`,
    });
  }
  const cluster = (config.clusters ?? []).find((c) => c.name === context.context.cluster);
  if (cluster === undefined) {
    throw new ValidationError(
      `context "${contextName}" in ${path} refers to cluster "${context.context.cluster}", which is not defined`,
      [],
      {
        where: path,
      },
    );
  }
  const server = cluster.cluster.server;
  return { kubeconfig: path, kubeconfigSource: source, context: contextName, server, clusterId: clusterIdOf(server) };
}

/** "kubeconfig <path>, context <ctx>" for error messages. */
export function describeTarget(target: Pick<KubeTarget, "kubeconfig" | "context" | "server">): string {
  return `cluster ${target.server} (kubeconfig ${target.kubeconfig}, context ${target.context})`;
}
