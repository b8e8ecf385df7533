/**
 * Which cluster an add-on is about to go to: read the kubeconfig (plain
 * YAML) for the selected context's cluster server URL. Used only to tell the
 * user; Core does the real connection.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { parse } from "yaml";

export interface ClusterTarget {
  kubeconfig: string;
  context?: string | undefined;
  server?: string | undefined;
  problem?: string | undefined;
}

export function defaultKubeconfigPath(): string {
  const env = process.env.KUBECONFIG;
  if (env !== undefined && env !== "") return env.split(delimiter).find((p) => p !== "") ?? env;
  return join(homedir(), ".kube", "config");
}

interface Named<T> {
  name?: unknown;
  context?: T;
  cluster?: T;
}

export async function describeTarget(kubeconfig: string | undefined, context: string | undefined): Promise<ClusterTarget> {
  const file = kubeconfig ?? defaultKubeconfigPath();
  let doc: unknown;
  try {
    doc = parse(await readFile(file, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { kubeconfig: file, context, problem: code === "ENOENT" ? "kubeconfig not found" : "kubeconfig unreadable" };
  }
  const cfg = (doc ?? {}) as {
    "current-context"?: unknown;
    contexts?: Named<{ cluster?: unknown }>[];
    clusters?: Named<{ server?: unknown }>[];
  };
  const ctxName = context ?? (typeof cfg["current-context"] === "string" ? cfg["current-context"] : undefined);
  const ctx = (cfg.contexts ?? []).find((c) => c?.name === ctxName);
  if (ctx === undefined)
    return {
      kubeconfig: file,
      context: ctxName,
      problem: ctxName === undefined ? "no current context" : `context "${ctxName}" not in kubeconfig`,
    };
  const clusterName = ctx.context?.cluster;
  const cluster = (cfg.clusters ?? []).find((c) => c?.name === clusterName);
  const server = typeof cluster?.cluster?.server === "string" ? cluster.cluster.server : undefined;
  return {
    kubeconfig: file,
    context: ctxName,
    server,
    ...(server === undefined ? { problem: `cluster "${String(clusterName)}" has no server` } : {}),
  };
}

export function formatTarget(t: ClusterTarget): string {
  const server = t.server ?? "unknown";
  const problem = t.problem === undefined ? "" : ` [${t.problem}]`;
  return `Target cluster: ${server} (context ${t.context ?? "unknown"}, kubeconfig ${t.kubeconfig})${problem}`;
}
