/**
 * The cluster a stack command targets and the Core that works on it: the
 * kubeconfig from `--kubeconfig`/`--context` or an Infra instance's
 * `kubeconfig` output (`--instance`), printed as `Target cluster: …`.
 */
import { log } from "@productive-k3s/pkg-format/cli";
import { type ExitCodeValue, Pk3sError, UsageError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { type ClusterTarget, describeTarget, formatTarget } from "../delegate/kubeconfig-target.js";
import { type RuntimeCommand, requireRuntime } from "../delegate/runtime-bin.js";
import { clusterArgs, kubeconfigFromInstance } from "./addon-install.js";

export interface StackClusterFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  instance?: string | undefined;
  infraBin?: string | undefined;
  coreBin?: string | undefined;
}

export interface StackTarget {
  target: ClusterTarget;
  core: RuntimeCommand;
  /** Core's flags for the cluster. */
  cluster: string[];
}

/** Usage errors first, before any network access. */
export function checkClusterFlags(flags: StackClusterFlags): void {
  if (flags.instance !== undefined && flags.kubeconfig !== undefined) {
    throw new UsageError("--instance and --kubeconfig both name a cluster; pass only one");
  }
  if (flags.instance !== undefined) assertValidName("instance", flags.instance, "--instance");
}

/** The target; when `--instance` gives no kubeconfig, Infra's exit code is the command's (Infra said why). */
export async function stackTarget(flags: StackClusterFlags): Promise<StackTarget> {
  let kubeconfig = flags.kubeconfig;
  if (flags.instance !== undefined) {
    const fromInstance = await kubeconfigFromInstance(flags.instance, flags.infraBin);
    if ("exitCode" in fromInstance) {
      throw new Pk3sError("E_RUNTIME", fromInstance.exitCode as ExitCodeValue, `no kubeconfig from instance ${flags.instance}`, {
        hint: "productive-k3s-infra said why above",
      });
    }
    kubeconfig = fromInstance.kubeconfig;
  }
  const target = await describeTarget(kubeconfig, flags.context);
  log(terminalLine(formatTarget(target) + (flags.instance === undefined ? "" : ` from instance ${flags.instance}`)));
  return { target, core: requireRuntime("core", flags.coreBin), cluster: clusterArgs(kubeconfig, flags.context) };
}
