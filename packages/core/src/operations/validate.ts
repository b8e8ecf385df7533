/**
 * `dev addon validate --source`, `dev addon package`, `dev addon install --source` (`addon validate --tgz`:
 * validate-package.ts, which loads none of the authoring and install code below).
 */
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MissingToolError, type Problem } from "@productive-k3s/pkg-format/errors";
import type { RemoteChart } from "@productive-k3s/pkg-format/schema-addon";
import { checkChart } from "../chart/chart-checks.js";
import { HELM_INSTALL_HINT, resolveTools } from "../cluster/tools.js";
import { describeRemote } from "../manifest-view.js";
import { loadAddonSource, type PackedAddon, packAddonSource } from "../package-access.js";
import { type InstallOptions, installAddon } from "./install.js";
import type { InstallResult } from "./install-result.js";
import { type StagedSource, stageSource } from "./source-stage.js";
import { about, mustExist, type ValidateResult } from "./validate-package.js";

/** How `dev addon validate|package` treat the chart (issue 13). */
export interface AuthoringOptions {
  strict?: boolean | undefined;
  /** A missing helm is an error (exit 5) instead of a warning. */
  requireHelm?: boolean | undefined;
  /** helm `--plain-http` when pulling a remote chart from an OCI registry. */
  plainHttp?: boolean | undefined;
}

/** What the authoring checks did with the chart. */
export interface ChartReport {
  /** Package-relative chart directory. */
  path: string;
  /** `helm lint` and `helm template` ran and passed (false: helm was not found). */
  checked: boolean;
  /** `Kind/name` of every object the chart renders with the package's values. */
  resources?: string[] | undefined;
  /** The remote chart pulled (and, when packing, embedded at `path`), verified against its digest. */
  embedded?: RemoteChart | undefined;
}

interface Authored {
  staged: StagedSource;
  chart: ChartReport | undefined;
  warnings: Problem[];
}

/**
 * Load a source, embed its remote chart (if any) in a private copy, and run the chart checks: the shared
 * first half of `dev addon validate`, `package` and `install`. `checks` false (install) skips lint and
 * template (and the warnings about script paths Core does not provide) but still embeds. The caller must call `staged.cleanup()`.
 */
async function authorSource(
  dir: string,
  label: string,
  options: AuthoringOptions,
  checks: boolean,
  needsPackage: boolean,
): Promise<Authored> {
  const { addon, warnings } = await loadAddonSource(dir, { strict: options.strict === true });
  if (checks) warnings.push(...(await referenceWarnings(dir, addon.metadata.name)));
  const chart = addon.spec.chart;
  const tools = resolveTools();
  const remote = chart?.remote;
  if (chart === undefined) return { staged: await stageSource(dir, addon, undefined, label), chart: undefined, warnings };
  if (tools.helm === undefined) {
    const why = tools.helmError instanceof Error ? tools.helmError.message : String(tools.helmError);
    if (options.requireHelm === true || (remote !== undefined && needsPackage)) {
      const need =
        remote !== undefined && needsPackage
          ? `to pull the remote chart ${describeRemote(remote)}`
          : "to lint and render the chart (--require-helm)";
      throw new MissingToolError("helm", `helm is needed ${need}: ${why}`, { hint: HELM_INSTALL_HINT });
    }
    if (checks) {
      warnings.push({
        file: `${label.replace(/\/+$/, "")}/${remote === undefined ? chart.path : "addon.yaml"}`,
        message: `chart not checked (helm lint, helm template${remote === undefined ? "" : ", pulling the remote chart"}): ${why}; --require-helm makes this an error`,
        severity: "warning",
      });
    }
    return { staged: await stageSource(dir, addon, undefined, label), chart: { path: chart.path, checked: false }, warnings };
  }
  const staged = await stageSource(dir, addon, { helm: tools.helm, plainHttp: options.plainHttp }, label);
  try {
    const report: ChartReport = { path: chart.path, checked: false, embedded: staged.embedded };
    if (checks) {
      const checked = await checkChart(tools.helm, staged.dir, staged.addon, { label, strict: options.strict === true });
      warnings.push(...checked.warnings);
      Object.assign(report, { checked: true, resources: checked.resources });
    }
    return { staged, chart: report, warnings };
  } catch (err) {
    await staged.cleanup();
    throw err;
  }
}

/** Script paths outside the package that Core's run directory does not provide (contract/script-references.ts). */
async function referenceWarnings(dir: string, name: string): Promise<Problem[]> {
  const { scriptReferenceWarnings } = await import("../contract/script-references.js");
  return scriptReferenceWarnings(dir, name);
}

export async function validateSource(source: string, options: AuthoringOptions = {}): Promise<ValidateResult> {
  const dir = await mustExist(source, "source directory", true);
  const { staged, chart, warnings } = await authorSource(dir, source, options, true, false);
  await staged.cleanup();
  return { ok: true, kind: "addon", ...about(staged.addon), ...(chart === undefined ? {} : { chart }), warnings };
}

export interface PackedSource extends PackedAddon {
  ok: true;
  chart?: ChartReport | undefined;
  warnings: Problem[];
}

export async function packageSource(source: string, outDir: string, options: AuthoringOptions = {}): Promise<PackedSource> {
  const dir = await mustExist(source, "source directory", true);
  const { staged, chart, warnings } = await authorSource(dir, source, options, true, true);
  try {
    const packed = await packAddonSource(staged.dir, resolve(outDir));
    return { ok: true, ...packed, ...(chart === undefined ? {} : { chart }), warnings };
  } finally {
    await staged.cleanup();
  }
}

/** `dev addon install --source`: pack the source exactly as `dev addon package` would, then run the package flow on it. */
export async function installSource(
  source: string,
  options: Omit<InstallOptions, "tgz"> & { plainHttp?: boolean | undefined },
): Promise<InstallResult> {
  const dir = await mustExist(source, "source directory", true);
  const out = await mkdtemp(join(tmpdir(), "pk3s-core-dev-"));
  const { onInterrupt } = await import("@productive-k3s/pkg-format/interrupts");
  const off = onInterrupt(() => rmSync(out, { recursive: true, force: true }));
  try {
    const { staged } = await authorSource(dir, source, { strict: options.strict, plainHttp: options.plainHttp }, false, true);
    let packed: PackedAddon;
    try {
      packed = await packAddonSource(staged.dir, out);
    } finally {
      await staged.cleanup();
    }
    process.stderr.write(`packed ${packed.name} ${packed.version} (${packed.digest}) from ${dir}\n`);
    return await installAddon({ ...options, tgz: packed.file });
  } finally {
    off();
    await rm(out, { recursive: true, force: true });
  }
}
