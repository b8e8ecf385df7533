import { randomBytes } from "node:crypto";

export const HELM_INSTALL_HINT =
  "install Helm 3 (https://helm.sh/docs/intro/install/, e.g. `curl -fsSL https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3 | bash`), or point PK3S_HELM_BIN at it";
export const KUBECTL_INSTALL_HINT =
  "install kubectl (https://kubernetes.io/docs/tasks/tools/; on a k3s server `k3s kubectl` works through a symlink named kubectl), or point PK3S_KUBECTL_BIN at it";

/** Run ids sort by time: 20261121T130501Z-1a2b3c. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}
