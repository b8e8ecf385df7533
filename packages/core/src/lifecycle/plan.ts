/**
 * The ordered steps of an install/upgrade or an uninstall, as data: what a
 * dry-run prints is exactly what a real run executes.
 *
 * Every step runs from the extracted package's root, and package files are
 * named by their path inside the package (`./charts/longhorn`,
 * `values.yaml`, `bash scripts/install.sh`), so the same package makes the
 * same tool calls wherever it was extracted. User `-f` files are absolute.
 */
import { kubeconfigArgs } from "../cluster/kubeconfig.js";
import { PHASE_DRIVER, WORK_DIR } from "../contract/run-dir.js";
import type { Timeout } from "../duration.js";
import type { AddonView } from "../manifest-view.js";

export type StepName =
  | "configure"
  | "backup"
  | "preInstall"
  | "helm"
  | "install"
  | "postInstall"
  | "validate"
  | "preUninstall"
  | "clean"
  | "helm-uninstall"
  | "postUninstall";

export interface PlannedStep {
  name: StepName;
  kind: "script" | "helm-install" | "helm-uninstall";
  /** Executable: `bash`, or the helm binary. */
  file: string;
  args: string[];
  /** Package-relative script path (script steps). */
  script?: string;
  /** Runs before anything changes (configure): when it fails, the run stops and the record is left as it was. */
  prelude?: boolean;
  /** The step reads the terminal (configure's prompts on a TTY): stdin is passed through. */
  stdin?: "inherit";
}

export interface HelmTarget {
  helm: string;
  release: string;
  namespace: string;
  kubeconfig: string;
  context: string;
}

export interface UserValues {
  /** Absolute paths of the user's `-f` files, in order. */
  files: string[];
  /** `--set` arguments, in order. */
  sets: string[];
}

/** Placeholders used in a dry-run when the cluster or helm could not be resolved. */
export const UNRESOLVED = { kubeconfig: "<kubeconfig>", context: "<context>", helm: "helm" } as const;

export function chartPathArg(path: string): string {
  return path.startsWith("./") || path.startsWith("/") ? path : `./${path}`;
}

/*
 * Every helm argv Core runs is built here, so one test (core/test/helm-real.test.ts) can run them all
 * through the real helm (v4) and prove each flag parses. Only flags that Helm 3 and Helm 4 both accept:
 * bare `--wait` (a bool in Helm 3, `--wait=watcher` in Helm 4), no `--atomic` (Helm 4:
 * `--rollback-on-failure`) and no `--force` (Helm 4: `--force-replace`); Core does its own rollback.
 */

/** `--kubeconfig FILE --kube-context CTX`; a KUBECONFIG list reaches helm through the environment instead. */
export function helmTargetArgs(t: Pick<HelmTarget, "kubeconfig" | "context">): string[] {
  return [...kubeconfigArgs(t.kubeconfig), "--kube-context", t.context];
}

type HelmRelease = Pick<HelmTarget, "release" | "namespace" | "kubeconfig" | "context">;

/** `helm status <release> -o json`: Core reads `version` and `info.status`/`info.last_deployed`. */
export function helmStatusArgs(t: HelmRelease): string[] {
  return ["status", t.release, "--namespace", t.namespace, "-o", "json", ...helmTargetArgs(t)];
}

export function helmUninstallArgs(t: HelmRelease, timeoutText: string): string[] {
  return ["uninstall", t.release, "--namespace", t.namespace, "--wait", "--timeout", timeoutText, ...helmTargetArgs(t)];
}

/** `helm rollback <release> [revision]`: without a revision, Helm goes back to the previous one. */
export function helmRollbackArgs(t: HelmRelease, timeoutText: string, revision?: number): string[] {
  return [
    "rollback",
    t.release,
    ...(revision === undefined ? [] : [String(revision)]),
    "--namespace",
    t.namespace,
    "--wait",
    "--timeout",
    timeoutText,
    ...helmTargetArgs(t),
  ];
}

/** `helm upgrade --install` argv: package values files first, then the user's -f, then --set, then the cluster. */
export function helmInstallArgs(addon: AddonView, t: HelmTarget, timeout: Timeout, values: UserValues): string[] {
  const chart = addon.spec.chart;
  if (chart === undefined) throw new Error("helmInstallArgs called for an add-on without spec.chart");
  return [
    "upgrade",
    "--install",
    t.release,
    chartPathArg(chart.path),
    "--namespace",
    t.namespace,
    "--create-namespace",
    "--wait",
    "--timeout",
    timeout.text,
    ...helmValuesArgs(addon, values),
    ...helmTargetArgs(t),
  ];
}

/**
 * The values of an install, in the one order every helm call that renders the chart uses (install,
 * template, lint): the package's values files, then the user's -f files, then --set.
 */
export function helmValuesArgs(addon: AddonView, values: UserValues): string[] {
  return [
    ...(addon.spec.chart?.values ?? []).flatMap((f) => ["-f", f]),
    ...values.files.flatMap((f) => ["-f", f]),
    ...values.sets.flatMap((s) => ["--set", s]),
  ];
}

/**
 * `helm template` of exactly what `helm upgrade --install` would apply: same chart, release, namespace
 * and values (helmValuesArgs), CRDs included (install applies the chart's crds/ folder too). Without a
 * cluster, `kubeVersion` (the probed cluster's, when known) stands in for `.Capabilities.KubeVersion`.
 */
export function helmTemplateArgs(
  addon: AddonView,
  t: Pick<HelmTarget, "release" | "namespace">,
  values: UserValues,
  kubeVersion?: string,
): string[] {
  const chart = addon.spec.chart;
  if (chart === undefined) throw new Error("helmTemplateArgs called for an add-on without spec.chart");
  return [
    "template",
    t.release,
    chartPathArg(chart.path),
    "--namespace",
    t.namespace,
    "--include-crds",
    ...(kubeVersion === undefined ? [] : ["--kube-version", kubeVersion]),
    ...helmValuesArgs(addon, values),
  ];
}

/** `helm lint` of the chart with the package's own values files (the authoring check; no user values). */
export function helmLintArgs(addon: AddonView, namespace: string): string[] {
  const chart = addon.spec.chart;
  if (chart === undefined) throw new Error("helmLintArgs called for an add-on without spec.chart");
  return ["lint", chartPathArg(chart.path), "--namespace", namespace, ...helmValuesArgs(addon, { files: [], sets: [] })];
}

/** A hook: run as `bash <hook>`. */
function hook(name: StepName, path: string | undefined): PlannedStep[] {
  return path === undefined ? [] : [{ name, kind: "script", file: "bash", args: [path], script: path }];
}

export type Phase = "configure" | "install" | "validate" | "clean" | "backup";

/** The configure phase's output file, relative to the package root (in the run directory's work folder). */
export const CONFIGURE_OUTPUT = `${WORK_DIR}/configure.env`;

/**
 * A lifecycle phase script, through Core's phase driver (contract/run-dir.ts):
 * a dual-mode script is sourced and its pk3s_<name>_<phase>/pk3s_addon_<phase>
 * called, any other script run as it is.
 */
export function phaseStep(name: StepName, phase: Phase, path: string, extra: string[] = []): PlannedStep {
  return { name, kind: "script", file: "bash", args: [PHASE_DRIVER, phase, path, ...extra], script: path };
}

function phase(name: StepName & Phase, path: string | undefined): PlannedStep[] {
  return path === undefined ? [] : [phaseStep(name, name, path)];
}

/** configure (the prelude) → preInstall → helm upgrade --install → install → postInstall → validate. */
export function planInstall(addon: AddonView, helm: HelmTarget | undefined, timeout: Timeout, values: UserValues): PlannedStep[] {
  const spec = addon.spec;
  const steps: PlannedStep[] = [];
  if (spec.configure !== undefined)
    steps.push({ ...phaseStep("configure", "configure", spec.configure.script, [CONFIGURE_OUTPUT]), prelude: true });
  steps.push(...hook("preInstall", spec.hooks?.preInstall));
  if (spec.chart !== undefined && helm !== undefined) {
    steps.push({ name: "helm", kind: "helm-install", file: helm.helm, args: helmInstallArgs(addon, helm, timeout, values) });
  }
  steps.push(...phase("install", spec.install?.script), ...hook("postInstall", spec.hooks?.postInstall));
  steps.push(...phase("validate", spec.validate?.script));
  return steps;
}

/** preUninstall → clean script → helm uninstall → postUninstall. `addon` is undefined when the kept package is gone. */
export function planUninstall(addon: AddonView | undefined, helm: HelmTarget | undefined, timeout: Timeout): PlannedStep[] {
  const steps: PlannedStep[] = [...hook("preUninstall", addon?.spec.hooks?.preUninstall), ...phase("clean", addon?.spec.clean?.script)];
  if (helm !== undefined) {
    steps.push({
      name: "helm-uninstall",
      kind: "helm-uninstall",
      file: helm.helm,
      args: helmUninstallArgs(helm, timeout.text),
    });
  }
  steps.push(...hook("postUninstall", addon?.spec.hooks?.postUninstall));
  return steps;
}

/** argv for display and logs: `--set key=value` shows the key only (values may be secrets). */
export function displayArgv(step: PlannedStep, maskSets: boolean): string[] {
  const out = [step.file];
  for (let i = 0; i < step.args.length; i++) {
    const a = step.args[i] ?? "";
    out.push(a);
    if (a === "--set" && maskSets && i + 1 < step.args.length) {
      const kv = step.args[++i] ?? "";
      const eq = kv.indexOf("=");
      out.push(eq < 0 ? kv : `${kv.slice(0, eq)}=***`);
    }
  }
  return out;
}

export { formatArgv } from "@productive-k3s/pkg-format/shell-quote";
