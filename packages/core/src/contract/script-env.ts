/**
 * The environment every package script gets (packages/core/README.md,
 * "Script environment" and "Script contract"): who the add-on is, the
 * target cluster with kubectl and helm bound to it, where Core's runtime
 * library is, whether the add-on is present and may change this machine,
 * and the configuration answers of the run.
 */
import type { KubeTarget } from "../cluster/kubeconfig.js";
import type { StepName } from "../lifecycle/plan.js";
import type { AddonView } from "../manifest-view.js";
import { answerEnv, SENSITIVE_KEY_SOURCE } from "./answers.js";
import type { RunDir } from "./run-dir.js";

export type ScriptAction = "install" | "upgrade" | "rollback" | "uninstall" | "backup" | "validate";

export interface ScriptEnvInput {
  addon: AddonView;
  run: RunDir;
  namespace: string;
  release: string;
  target: Pick<KubeTarget, "kubeconfig" | "context" | "server">;
  helm: string | undefined;
  /** The real kubectl (PK3S_KUBECTL_BIN is the run's bound wrapper around it). */
  kubectl: string | undefined;
  runId: string;
  action: ScriptAction;
  /** `k3s`, `rke2` or `kubernetes`, when known (from the probe, else the record). */
  distro?: string | undefined;
  /** The add-on is installed on the cluster in the version the phase is about (PK3S_ADDON_PRESENT). */
  present: boolean;
  /** The user allowed this run to change the machine Core runs on (only ever true for spec.impact.host add-ons). */
  allowHostChanges: boolean;
  /** Configuration answers (configure's output, or the record's): PK3S_<KEY>. */
  answers?: Readonly<Record<string, string>> | undefined;
}

const yn = (b: boolean): "y" | "n" => (b ? "y" : "n");

export function scriptEnv(input: ScriptEnvInput, step: StepName): Record<string, string | undefined> {
  const hostImpact = input.addon.spec.impact?.host === true;
  const allow = hostImpact && input.allowHostChanges;
  // Answers are for the add-on's scripts, not for Helm.
  const scriptStep = step !== "helm" && step !== "helm-uninstall";
  return {
    ...(scriptStep ? answerEnv(input.answers ?? {}) : {}),
    PK3S_ADDON_NAME: input.addon.metadata.name,
    PK3S_ADDON_VERSION: input.addon.metadata.version,
    PK3S_ADDON_DIR: input.run.pkgDir,
    PK3S_NAMESPACE: input.namespace,
    PK3S_RELEASE: input.release,
    KUBECONFIG: input.target.kubeconfig,
    PK3S_KUBE_CONTEXT: input.target.context,
    PK3S_CLUSTER_SERVER: input.target.server,
    PK3S_HELM_BIN: input.helm,
    HELM_KUBECONTEXT: input.target.context,
    PK3S_KUBECTL_BIN: input.kubectl === undefined ? undefined : input.run.kubectl,
    PK3S_KUBECTL_MODE: "kubectl",
    PK3S_CORE_KUBECTL: input.kubectl,
    PK3S_CORE_KUBECONFIG: input.target.kubeconfig,
    PK3S_CORE_CONTEXT: input.target.context,
    PRODUCTIVE_K3S_CORE_REPO_DIR: input.run.root,
    PRODUCTIVE_K3S_DISTRO: input.distro,
    PRODUCTIVE_K3S_ENGINE: "native",
    PK3S_ADDON_PRESENT: yn(input.present),
    PK3S_ADDON_HOST_IMPACT: yn(hostImpact),
    PK3S_ALLOW_HOST_CHANGES: yn(allow),
    PK3S_ALLOW_HOST_LOCAL_CHANGES: yn(allow),
    PK3S_CONFIG_SENSITIVE_PATTERN: SENSITIVE_KEY_SOURCE,
    PK3S_STEP: step,
    PK3S_ACTION: input.action,
    PK3S_RUN_ID: input.runId,
    PK3S_DRY_RUN: "0",
  };
}
