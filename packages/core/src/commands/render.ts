/**
 * Human renderings of command results (stdout); `--json` prints the results
 * themselves. Text that comes from a package, a record or a tool goes
 * through terminalLine: its control characters are shown, never sent.
 */
import { formatProblem } from "@productive-k3s/pkg-format/errors";
import { formatArgv } from "@productive-k3s/pkg-format/shell-quote";
import { terminalBlock, terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { formatColumns } from "@productive-k3s/pkg-format/text-table";
import { describeRemote } from "../manifest-view.js";
import type { InstallResult, PackageResult, SkippedPackage } from "../operations/install-result.js";
import type { HelmReleaseStatus, ListResult, StatusResult } from "../operations/status.js";
import type { TemplateResult } from "../operations/template.js";
import type { UninstallResult } from "../operations/uninstall.js";
import type { ChartReport, PackedSource } from "../operations/validate.js";
import type { ValidateResult } from "../operations/validate-package.js";
import type { InstallRecord } from "../records/schema.js";
import { backupLine, impactLines } from "./render-lifecycle.js";

export function renderValidate(r: ValidateResult): string {
  const lines = [`ok: ${r.kind} ${terminalLine(r.name)} ${terminalLine(r.version)}${r.digest === undefined ? "" : ` (${r.digest})`}`];
  if (r.category !== undefined) lines.push(`  category: ${terminalLine(r.category)}`);
  if (r.description !== undefined) lines.push(`  description: ${terminalLine(r.description)}`);
  if (r.chart !== undefined) lines.push(chartLine(r.chart));
  for (const w of r.warnings) lines.push(`  ${terminalLine(formatProblem(w))}`);
  return lines.join("\n");
}

/** `  chart: charts/x (from oci://… 1.2.3, sha256:…): helm lint and helm template ok, 4 objects`. */
function chartLine(c: ChartReport): string {
  const t = terminalLine;
  const from = c.embedded === undefined ? "" : ` (from ${t(describeRemote(c.embedded))}, ${t(c.embedded.digest)})`;
  const verdict = c.checked ? `helm lint and helm template ok, ${c.resources?.length ?? 0} objects` : "not checked (no helm)";
  return `  chart: ${t(c.path)}${from}: ${verdict}`;
}

/** Human summary of an install/upgrade result (dependencies first, then the `--tgz` package). */
export function renderInstall(r: InstallResult): string {
  const t = terminalLine;
  const target = r.cluster === null ? "unknown (cluster checks skipped)" : `${t(r.cluster.server)} (context ${t(r.cluster.context)})`;
  const blocks: string[] = [];
  if (r.dryRun) {
    const head = [`Target cluster: ${target}`];
    if (r.clusterInfo !== undefined) {
      const { distro, version, architectures } = r.clusterInfo;
      head.push(`Cluster: ${t(distro)} ${t(version)}, node architectures: ${t(architectures.join(", ")) || "none"}`);
    }
    blocks.push(head.join("\n"));
  }
  const checked = r.clusterInfo !== undefined;
  for (const d of r.dependencyPackages ?? []) blocks.push(formatPackage(d, target, checked));
  blocks.push(formatPackage(r, target, checked));
  return blocks.join(r.dependencyPackages === undefined ? "\n" : "\n\n");
}

function formatPackage(r: PackageResult | SkippedPackage, target: string, clusterChecked: boolean): string {
  const t = terminalLine;
  if (r.action === "skip") return `${r.dryRun ? "Would skip" : "Skipped"} ${r.name} ${r.version}: ${t(r.reason)}`;
  const lines: string[] = [];
  if (r.dryRun) {
    lines.push(`Package: ${r.name} ${r.version} (${r.digest})`);
    lines.push(clusterChecked ? "Compatibility: ok" : "Compatibility: requires.core ok (cluster checks skipped)");
    const deps = r.dependencies.map((d) => `${d.name} ${t(d.range)} (${t(d.satisfiedBy ?? "?")})`).join(", ");
    lines.push(`Dependencies: ${deps === "" ? "none" : deps}`);
    lines.push(...impactLines(r.name, r.version, r.impact, r.hostChanges));
    if (r.action === "none") {
      lines.push(`Nothing to do: ${r.name} ${r.version} is already installed with this package.`);
    } else {
      lines.push(`Action: ${r.action}${r.previousVersion === undefined ? "" : ` (installed: ${t(r.previousVersion)})`}`);
      if (r.backupFirst === true)
        lines.push(`Would back up the installed ${r.name} ${t(r.previousVersion ?? "")} first (--no-backup to skip)`);
      lines.push("Would run, in order, from the extracted package root:");
      for (const [i, c] of (r.commands ?? []).entries()) lines.push(`  ${i + 1}. [${c.step}] ${t(formatArgv(c.argv))}`);
      if (r.rendered !== undefined) {
        lines.push(`The chart renders ${r.rendered.length} object${r.rendered.length === 1 ? "" : "s"} (helm template):`);
        for (const o of r.rendered) lines.push(`  ${t(o)}`);
      }
    }
    return lines.join("\n");
  }
  if (r.action === "none") return `${r.name} ${r.version} is already installed on ${target}; nothing to do (use --force to reinstall)`;
  const done = { install: "installed", upgrade: "upgraded", rollback: "rolled back to" }[r.action];
  lines.push(`${r.name} ${done === "rolled back to" ? `${done} ${r.version}` : `${r.version} ${done}`} on ${target}`);
  if (r.revision !== undefined) lines.push(`  revision: ${r.revision}`);
  if (r.release !== undefined) lines.push(`  release: ${r.release} (namespace ${r.namespace})`);
  else lines.push(`  namespace: ${r.namespace}`);
  const answers = Object.entries(r.configure ?? {}).map(([k, v]) => `${k}=${t(v)}`);
  if (answers.length > 0) lines.push(`  answers: ${answers.join(", ")}`);
  if (r.backup !== undefined) lines.push(`  ${backupLine(r.backup)}`);
  lines.push(`  steps: ${(r.steps ?? []).map((s) => `${s.name} ${s.status}`).join(", ") || "none"}`);
  if (r.runLog !== undefined) lines.push(`  run log: ${t(r.runLog)}`);
  return lines.join("\n");
}

export function renderUninstall(r: UninstallResult): string {
  const t = terminalLine;
  return [
    `${r.name} ${r.version} uninstalled from ${t(r.cluster.server)} (context ${t(r.cluster.context)})`,
    ...(r.backup === undefined ? [] : [`  ${backupLine(r.backup)}`]),
    `  steps: ${r.steps.map((s) => `${s.name} ${s.status}`).join(", ") || "none"}`,
    `  run log: ${t(r.runLog)}`,
  ].join("\n");
}

function helmText(h: HelmReleaseStatus | undefined): string {
  if (h === undefined) return "-";
  if (h.error !== undefined) return `unknown (${terminalLine(h.error)})`;
  return `${terminalLine(h.status ?? "?")} rev ${h.revision ?? "?"}`;
}

const steps = (list: InstallRecord["steps"]): string => list.map((s) => `${terminalLine(s.name)} ${s.status}`).join(", ") || "none";

export function renderStatus(r: StatusResult): string {
  const a = r.addon;
  const t = terminalLine;
  const { category, description } = r.record;
  const lines = [
    `${a.name} ${a.version}: ${a.status}${a.failedStep === undefined ? "" : ` (at step ${t(a.failedStep)})`}`,
    ...(description === undefined ? [] : [`  about:     ${t(description)}`]),
    ...(category === undefined ? [] : [`  category:  ${t(category)}`]),
    `  cluster:   ${t(r.cluster.server)} (context ${t(r.cluster.context)})`,
    ...(a.attempted === undefined
      ? []
      : [`  attempted: upgrade to ${a.attempted.version} failed and was rolled back (run ${t(a.attempted.runId)})`]),
    `  digest:    ${a.digest}`,
    `  namespace: ${a.namespace}`,
  ];
  if (a.release !== undefined) lines.push(`  release:   ${a.release} (helm: ${helmText(a.helm)})`);
  lines.push(`  steps:     ${steps(a.steps)}`);
  if (a.dependencies.length > 0) lines.push(`  depends:   ${a.dependencies.map((d) => `${d.name} ${t(d.version)}`).join(", ")}`);
  lines.push(`  updated:   ${t(a.updatedAt)}`, `  run log:   ${t(a.runLog)}`);
  return lines.join("\n");
}

export function renderList(r: ListResult): string {
  const where = `${terminalLine(r.cluster.server)} (context ${terminalLine(r.cluster.context)})`;
  if (r.addons.length === 0) return `No add-ons installed on ${where}.`;
  const rows = [["NAME", "VERSION", "STATUS", "NAMESPACE", "RELEASE", "HELM"]];
  for (const a of r.addons) rows.push([a.name, a.version, a.status, a.namespace, a.release ?? "-", helmText(a.helm)]);
  return formatColumns(rows);
}

/** `dev addon package`. */
export function renderPackage(r: PackedSource): string {
  const lines = [`${r.file}`, `  name: ${r.name}`, `  version: ${r.version}`, `  digest: ${r.digest}`, `  size: ${r.size}`];
  if (r.chart !== undefined) lines.push(chartLine(r.chart));
  for (const w of r.warnings) lines.push(`  ${terminalLine(formatProblem(w))}`);
  return lines.join("\n");
}

/** `addon template`: the manifests as helm printed them (made terminal-safe only when a terminal reads them). */
export function renderTemplate(r: TemplateResult): string {
  return process.stdout.isTTY === true ? terminalBlock(r.manifest) : r.manifest;
}
