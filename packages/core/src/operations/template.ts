/**
 * `addon template --tgz`: the manifests `addon install` would apply, rendered by `helm template` from the
 * verified package with install's values in install's order (lifecycle/plan.ts: helmValuesArgs), the
 * release and namespace install would use (or `--release-name` / `-n`). Nothing touches a cluster.
 */
import { rmSync } from "node:fs";
import { basename } from "node:path";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { onInterrupt } from "@productive-k3s/pkg-format/interrupts";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import { renderChart } from "../chart/template.js";
import { requireTool, resolveTools } from "../cluster/tools.js";
import { resolveUserValues } from "../lifecycle/values.js";
import { namespaceOf, releaseOf } from "../manifest-view.js";
import { openAddonPackage } from "../package-access.js";
import { mustExist } from "./validate-package.js";

export interface TemplateOptions {
  tgz: string;
  values?: string[] | undefined;
  sets?: string[] | undefined;
  namespace?: string | undefined;
  releaseName?: string | undefined;
  /** `.Capabilities.KubeVersion` for the render (helm's default otherwise). */
  kubeVersion?: string | undefined;
  strict?: boolean | undefined;
}

export interface TemplateResult {
  ok: true;
  name: string;
  version: string;
  digest: string;
  release: string;
  namespace: string;
  /** `Kind/name` of every rendered object, in order. */
  resources: string[];
  /** The rendered manifests, as helm printed them. */
  manifest: string;
}

export async function templateAddon(options: TemplateOptions): Promise<TemplateResult> {
  if (options.namespace !== undefined) assertValidName("namespace", options.namespace, "--namespace");
  if (options.releaseName !== undefined) assertValidName("package", options.releaseName, "--release-name");
  if (options.kubeVersion !== undefined && !/^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.+-]*)?$/.test(options.kubeVersion)) {
    throw new UsageError(`invalid --kube-version ${quoteForTerminal(options.kubeVersion)}`, {
      hint: "give a Kubernetes version, e.g. v1.31.4",
    });
  }
  const values = await resolveUserValues(options.values ?? [], options.sets ?? []);
  const file = await mustExist(options.tgz, "package", false);
  const opened = await openAddonPackage(file, { strict: options.strict === true });
  const off = onInterrupt(() => rmSync(opened.tempDir, { recursive: true, force: true }));
  try {
    const { addon } = opened;
    const { name, version } = addon.metadata;
    const release = options.releaseName ?? releaseOf(addon);
    if (release === undefined) {
      throw new UsageError(`${name} ${version} has no chart (spec.chart): there is nothing to render`, {
        where: options.tgz,
        hint: "a shell add-on's scripts decide what they apply; `addon install --dry-run` lists the steps it would run",
      });
    }
    const tools = resolveTools();
    const helm = requireTool(tools.helm, tools.helmError);
    const namespace = namespaceOf(addon, options.namespace);
    const rendered = await renderChart({
      helm,
      pkgDir: opened.dir,
      addon,
      release,
      namespace,
      values,
      kubeVersion: options.kubeVersion,
      label: basename(file),
    });
    return {
      ok: true,
      name,
      version,
      digest: opened.digest,
      release,
      namespace,
      resources: rendered.resources,
      manifest: rendered.manifest,
    };
  } finally {
    off();
    await opened.cleanup();
  }
}
