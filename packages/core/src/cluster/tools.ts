/**
 * helm and kubectl, found the one way every Core command finds them:
 * `PK3S_HELM_BIN` / `PK3S_KUBECTL_BIN`, else PATH. What is missing is kept
 * with its reason (a MissingToolError, exit 5), for the command to decide
 * whether it needs the tool.
 */
import { resolveTool } from "@productive-k3s/pkg-format/process";

export const HELM_INSTALL_HINT =
  "install Helm 3 or 4 (https://helm.sh/docs/intro/install/; Core uses only flags both accept), or point PK3S_HELM_BIN at it";
export const KUBECTL_INSTALL_HINT =
  "install kubectl (https://kubernetes.io/docs/tasks/tools/; on a k3s server `k3s kubectl` works through a symlink named kubectl), or point PK3S_KUBECTL_BIN at it";

export interface Tools {
  kubectl: string | undefined;
  helm: string | undefined;
  /** Why kubectl could not be resolved. */
  kubectlError?: unknown;
  /** Why helm could not be resolved (a real install of a chart stops on it). */
  helmError?: unknown;
}

function attempt(name: string, envVar: string, hint: string): { path?: string; error?: unknown } {
  try {
    return { path: resolveTool(name, envVar, hint) };
  } catch (error) {
    return { error };
  }
}

export function resolveTools(): Tools {
  const kubectl = attempt("kubectl", "PK3S_KUBECTL_BIN", KUBECTL_INSTALL_HINT);
  const helm = attempt("helm", "PK3S_HELM_BIN", HELM_INSTALL_HINT);
  return { kubectl: kubectl.path, kubectlError: kubectl.error, helm: helm.path, helmError: helm.error };
}

/** The tool's path, or the reason it is missing thrown. */
export function requireTool(path: string | undefined, error: unknown): string {
  if (path !== undefined) return path;
  throw error;
}
