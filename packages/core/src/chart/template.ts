/**
 * Rendering an add-on's chart with `helm template`, exactly as `helm upgrade --install` would apply it
 * (lifecycle/plan.ts builds both argv from one values order). Used by `addon template`, by
 * `addon install --dry-run` (a chart that does not render stops the dry run, exit 4) and by the
 * authoring checks. A template error is a ValidationError naming the chart file helm blamed.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { parse, parseAllDocuments } from "yaml";
import { helmTemplateArgs, type UserValues } from "../lifecycle/plan.js";
import type { AddonView } from "../manifest-view.js";
import { type ChartFiles, templateProblem } from "./helm-problems.js";
import { runHelm, throwToolFailure } from "./helm-run.js";

export const HELM_CHECK_TIMEOUT_MS = 120_000;
/** Rendered manifests larger than this are refused rather than cut (runProcess keeps this much). */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export interface RenderInput {
  helm: string;
  /** Package root (the chart path and package values files are relative to it). */
  pkgDir: string;
  addon: AddonView;
  release: string;
  namespace: string;
  values: UserValues;
  /** The target cluster's version, when known (`.Capabilities.KubeVersion`). */
  kubeVersion?: string | undefined;
  /** How the package is named in problems. */
  label: string;
}

export interface Rendered {
  /** helm's output: the manifests, `---` separated, with `# Source:` comments. */
  manifest: string;
  /** `Kind/name` of every rendered object, in order. */
  resources: string[];
}

/** The chart of an add-on as problems name its files (reads Chart.yaml's name; the package was validated). */
export async function chartFilesOf(pkgDir: string, addon: AddonView, label: string, values: UserValues): Promise<ChartFiles> {
  const chart = addon.spec.chart;
  if (chart === undefined) throw new Error("chartFilesOf called for an add-on without spec.chart");
  const doc: unknown = await readFile(join(pkgDir, chart.path, "Chart.yaml"), "utf8").then(
    (text) => parse(text) as unknown,
    () => undefined,
  );
  const name =
    doc !== null && typeof doc === "object" && typeof (doc as { name?: unknown }).name === "string" ? (doc as { name: string }).name : "";
  return {
    name: name || chart.path.split("/").pop() || chart.path,
    dir: chart.path,
    label,
    valuesFiles: [...(chart.values ?? []), ...values.files],
  };
}

/** The kind and name of each object in a rendered manifest (documents that are not objects are skipped). */
export function resourcesOf(manifest: string): string[] {
  const out: string[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    if (!("errors" in doc) || doc.errors.length > 0) continue;
    const o = doc.toJS() as { kind?: unknown; metadata?: { name?: unknown } } | null;
    if (o === null || typeof o !== "object" || typeof o.kind !== "string") continue;
    out.push(`${o.kind}/${typeof o.metadata?.name === "string" ? o.metadata.name : "?"}`);
  }
  return out;
}

/** `helm template` of the add-on's chart; a chart that does not render is a ValidationError (exit 4). */
export async function renderChart(input: RenderInput): Promise<Rendered> {
  const args = helmTemplateArgs(input.addon, input, input.values, input.kubeVersion);
  const result = await runHelm(input.helm, args, "helm template", {
    cwd: input.pkgDir,
    timeoutMs: HELM_CHECK_TIMEOUT_MS,
    maxCapture: MAX_MANIFEST_BYTES,
  });
  const { name, version } = input.addon.metadata;
  if (result.exitCode !== 0) {
    throwToolFailure(result, "helm template");
    const chart = await chartFilesOf(input.pkgDir, input.addon, input.label, input.values);
    throw new ValidationError(`the chart of ${name} ${version} does not render`, [templateProblem(result.stderr, chart)], {
      where: input.label,
      hint: "fix the chart file named above (or the values that reach it); `productive-k3s-core addon template` shows the full output",
    });
  }
  if (result.stdout.length >= MAX_MANIFEST_BYTES) {
    throw new ValidationError(
      `the chart of ${name} ${version} renders more than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB of manifests`,
      [],
      {
        where: input.label,
      },
    );
  }
  return { manifest: result.stdout, resources: resourcesOf(result.stdout) };
}
