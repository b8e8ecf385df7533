/**
 * The chart checks of `dev addon validate` and `dev addon package`: `helm lint`, then `helm template`,
 * on the package's chart with the package's values (release and namespace as install would use them).
 * Lint and template errors are validation errors (exit 4) naming the chart file; lint warnings are
 * warnings (errors with --strict). The caller decides what a missing helm means (--require-helm).
 */
import { type Problem, ValidationError } from "@productive-k3s/pkg-format/errors";
import { helmLintArgs, type UserValues } from "../lifecycle/plan.js";
import { type AddonView, namespaceOf, releaseOf } from "../manifest-view.js";
import { displayFile, lintProblems, locateInMessage } from "./helm-problems.js";
import { helmErrorText, runHelm, throwToolFailure } from "./helm-run.js";
import { chartFilesOf, HELM_CHECK_TIMEOUT_MS, renderChart } from "./template.js";

const NO_USER_VALUES: UserValues = { files: [], sets: [] };

export interface ChartChecked {
  /** Package-relative chart directory. */
  path: string;
  /** `Kind/name` of every object `helm template` rendered. */
  resources: string[];
  /** helm lint's warnings (and lint errors are thrown). */
  warnings: Problem[];
}

export async function checkChart(
  helm: string,
  pkgDir: string,
  addon: AddonView,
  options: { label: string; strict: boolean },
): Promise<ChartChecked> {
  const chart = addon.spec.chart;
  const release = releaseOf(addon);
  if (chart === undefined || release === undefined) throw new Error("checkChart called for an add-on without spec.chart");
  const namespace = namespaceOf(addon);
  const files = await chartFilesOf(pkgDir, addon, options.label, NO_USER_VALUES);
  const lint = await runHelm(helm, helmLintArgs(addon, namespace), "helm lint", { cwd: pkgDir, timeoutMs: HELM_CHECK_TIMEOUT_MS });
  if (lint.exitCode !== 0) throwToolFailure(lint, "helm lint");
  const problems = lintProblems(lint.stdout, files, options.strict);
  if (lint.exitCode !== 0 && !problems.some((p) => p.severity === "error")) {
    // helm refused before linting (e.g. a values file that does not parse): its error names the file, if any.
    const text = helmErrorText(lint.stderr);
    const where = locateInMessage(text, files) ?? { file: displayFile(files, chart.path) };
    problems.push({ ...where, message: `helm lint: ${text}`, severity: "error" });
  }
  const { name, version } = addon.metadata;
  if (problems.some((p) => p.severity === "error")) {
    throw new ValidationError(`the chart of ${name} ${version} does not pass helm lint`, problems, {
      where: options.label,
      hint: "fix the chart files named above",
    });
  }
  const rendered = await renderChart({ helm, pkgDir, addon, release, namespace, values: NO_USER_VALUES, label: options.label });
  return { path: chart.path, resources: rendered.resources, warnings: problems };
}
