/** Human renderings of command results (stdout). */

import { formatColumns } from "@productive-k3s/pkg-format/text-table";
import type { DestroyResult } from "../operations/destroy.js";
import type { InstallResult } from "../operations/install.js";
import type { PlanResult } from "../operations/plan.js";
import type { ListEntry, StatusResult } from "../operations/status.js";
import type { ValidateResult } from "../operations/validate.js";

function value(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function outputsBlock(outputs: Record<string, unknown>, indent = "  "): string[] {
  const keys = Object.keys(outputs).sort();
  if (keys.length === 0) return [`${indent}(none)`];
  return keys.map((k) => `${indent}${k} = ${value(outputs[k])}`);
}

export function renderValidate(r: ValidateResult): string {
  const lines = [`${r.profile} ${r.version} is valid (engine ${r.engine}, scenario ${r.scenario}, ${r.digest})`];
  if (r.inputs.length > 0) {
    lines.push("inputs:");
    for (const i of r.inputs) {
      lines.push(
        `  ${i.name}${i.required ? " (required)" : ""}${i.sensitive ? " (sensitive)" : ""} [${i.source}]: ${i.provided ? `from ${i.from}` : "not set"}`,
      );
    }
  }
  if (r.variables !== undefined && Object.keys(r.variables).length > 0) {
    lines.push("opentofu variables:");
    for (const [v, key] of Object.entries(r.variables).sort()) lines.push(`  ${v} <- ${key}`);
  }
  return lines.join("\n");
}

export function renderPlan(r: PlanResult): string {
  return [
    `${r.summary}`,
    `instance ${r.instance} (${r.profile} ${r.version}), run ${r.runId}${r.planFile ? "; plan saved for install" : ""}`,
  ].join("\n");
}

export function renderInstall(r: InstallResult): string {
  const lines = [`installed instance ${r.instance} (${r.profile} ${r.version}, ${r.engine}), run ${r.runId}`];
  if (r.recoveredFrom) lines.push(`recovered from interrupted run ${r.recoveredFrom}`);
  lines.push("outputs:", ...outputsBlock(r.outputs));
  return lines.join("\n");
}

export function renderStatus(r: StatusResult): string {
  const lines = [
    `instance:  ${r.instance}`,
    `profile:   ${r.profile} ${r.version} (${r.engine}, scenario ${r.scenario})`,
    `status:    ${r.status}${r.interruptedRun ? ` (run ${r.interruptedRun} did not finish; the next install recovers)` : ""}`,
    `digest:    ${r.digest}`,
  ];
  if (r.resources !== undefined) lines.push(`resources: ${r.resources}`);
  if (r.plan)
    lines.push(
      `plan:      saved by run ${r.plan.runId}${r.plan.changes ? ` (${r.plan.changes.add} to add, ${r.plan.changes.change} to change, ${r.plan.changes.destroy} to destroy)` : ""}`,
    );
  if (r.lastRun) lines.push(`last run:  ${r.lastRun.action} ${r.lastRun.status} (${r.lastRun.id})`);
  lines.push("outputs:", ...outputsBlock(r.outputs));
  if (r.check !== undefined) {
    lines.push(`check:     ${r.check.script} exited ${r.check.exitCode}`);
    if (r.check.output !== "") lines.push(...r.check.output.split("\n").map((l) => `  ${l}`));
  }
  return lines.join("\n");
}

export function renderOutputs(r: { outputs: Record<string, unknown> }): string {
  return Object.keys(r.outputs).length === 0 ? "" : outputsBlock(r.outputs, "").join("\n");
}

export function renderDestroy(r: DestroyResult): string {
  return r.note
    ? `${r.status} instance ${r.instance}: ${r.note}`
    : `${r.status} instance ${r.instance}${r.runId ? `, run ${r.runId}` : ""}`;
}

export function renderList(r: { instances: ListEntry[] }): string {
  if (r.instances.length === 0) return "no instances";
  const rows = [
    ["INSTANCE", "PROFILE", "VERSION", "ENGINE", "STATUS", "UPDATED"],
    ...r.instances.map((i) => [i.instance, i.profile, i.version, i.engine, i.status, i.updatedAt]),
  ];
  return formatColumns(rows);
}
