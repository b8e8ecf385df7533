/**
 * Human renderings of command results (stdout). Everything that comes from a
 * package (profile.yaml, profile.env) or a tool (outputs, statusScript output)
 * goes through terminalLine/terminalBlock: a package must not be able to
 * move the cursor, rewrite earlier lines or set the window title.
 */

import { terminalBlock, terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { formatColumns } from "@productive-k3s/pkg-format/text-table";
import type { DestroyResult } from "../operations/destroy.js";
import type { InstallResult } from "../operations/install.js";
import type { PlanResult } from "../operations/plan.js";
import type { ListEntry, StatusResult } from "../operations/status.js";
import type { ValidateResult } from "../operations/validate.js";

const t = terminalLine;

/** `name = value`; a multi-line string (a kubeconfig, a PEM key) as an indented block below its name. */
function outputLines(name: string, v: unknown, indent: string): string[] {
  if (typeof v === "string" && v.includes("\n")) {
    return [
      `${indent}${t(name)} =`,
      ...terminalBlock(v.replace(/\n$/, ""))
        .split("\n")
        .map((l) => `${indent}    ${l}`),
    ];
  }
  return [`${indent}${t(name)} = ${t(typeof v === "string" ? v : (JSON.stringify(v) ?? "null"))}`];
}

function outputsBlock(outputs: Record<string, unknown>, indent = "  "): string[] {
  const keys = Object.keys(outputs).sort();
  if (keys.length === 0) return [`${indent}(none)`];
  return keys.flatMap((k) => outputLines(k, outputs[k], indent));
}

export function renderValidate(r: ValidateResult): string {
  const what = r.mode === "contract" ? "the contract of " : "";
  const lines = [`${what}${t(r.profile)} ${t(r.version)} is valid (engine ${t(r.engine)}, scenario ${t(r.scenario)}, ${r.digest})`];
  if (r.description !== undefined) lines.push(t(r.description));
  lines.push(`target: ${t(r.target.summary)}`);
  const needed = new Set(r.needs.map((n) => n.name));
  if (r.inputs.length > 0) {
    lines.push("inputs:");
    for (const i of r.inputs) {
      const where = i.provided ? `from ${t(i.from)}` : needed.has(i.name) ? "from the invoking machine" : "not set";
      lines.push(
        `  ${t(i.name)}${i.required ? " (required)" : ""}${i.sensitive ? " (sensitive)" : ""} [${i.source}]: ${where}${i.description === undefined ? "" : ` — ${t(i.description)}`}`,
      );
    }
  }
  if (r.variables !== undefined && Object.keys(r.variables).length > 0) {
    lines.push("opentofu variables:");
    for (const [v, key] of Object.entries(r.variables).sort()) lines.push(`  ${t(v)} <- ${t(key)}`);
  }
  if (r.mode === "contract") {
    const required = r.needs.filter((n) => n.required).map((n) => t(n.name));
    const optional = r.needs.filter((n) => !n.required).map((n) => t(n.name));
    lines.push(
      required.length === 0
        ? "an install needs no values from the invoking machine"
        : `an install needs from the invoking machine (--env-file or --set): ${required.join(", ")}`,
    );
    if (optional.length > 0) lines.push(`optional, from the invoking machine: ${optional.join(", ")}`);
    lines.push("(contract check: values not demanded; give --env-file, --set or --require-inputs to check an install's values)");
  }
  return lines.join("\n");
}

export function renderPlan(r: PlanResult): string {
  return [
    t(r.summary),
    `instance ${r.instance} (${t(r.profile)} ${t(r.version)}), run ${r.runId}${r.planFile ? "; plan saved for install" : ""}`,
  ].join("\n");
}

export function renderInstall(r: InstallResult): string {
  const lines = [`installed instance ${r.instance} (${t(r.profile)} ${t(r.version)}, ${t(r.engine)}), run ${r.runId}`];
  if (r.recoveredFrom) lines.push(`recovered from interrupted run ${r.recoveredFrom}`);
  lines.push("outputs:", ...outputsBlock(r.outputs));
  return lines.join("\n");
}

export function renderStatus(r: StatusResult): string {
  const lines = [
    `instance:  ${r.instance}`,
    `profile:   ${t(r.profile)} ${t(r.version)} (${t(r.engine)}, scenario ${t(r.scenario)})`,
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
  if (r.sensitiveInputs.length > 0) lines.push(`sensitive inputs (never stored): ${r.sensitiveInputs.map(t).join(", ")}`);
  if (r.addons !== undefined) {
    lines.push(
      `add-ons:   ${r.addons.items.length === 0 ? "none installed through productive-k3s-core" : `on ${t(r.addons.cluster.server)} (productive-k3s-core)`}`,
    );
    for (const a of r.addons.items) {
      const deps = a.dependencies.length === 0 ? "" : `, needs ${a.dependencies.map(t).join(", ")}`;
      lines.push(`  ${t(a.name)} ${t(a.version)} ${a.status} (namespace ${t(a.namespace)}${deps})`);
    }
  } else if (r.addonsNote !== undefined) lines.push(`add-ons:   unknown: ${t(r.addonsNote)}`);
  if (r.check !== undefined) {
    lines.push(`check:     ${t(r.check.script)} exited ${r.check.exitCode}`);
    if (r.check.output !== "")
      lines.push(
        ...terminalBlock(r.check.output)
          .split("\n")
          .map((l) => `  ${l}`),
      );
  }
  return lines.join("\n");
}

export function renderOutputs(r: { outputs: Record<string, unknown> }): string {
  return Object.keys(r.outputs).length === 0 ? "" : outputsBlock(r.outputs, "").join("\n");
}

export function renderDestroy(r: DestroyResult): string {
  const head = r.note
    ? `${r.status} instance ${r.instance}: ${t(r.note)}`
    : `${r.status} instance ${r.instance}${r.runId ? `, run ${r.runId}` : ""}`;
  return r.addons === undefined
    ? head
    : `${head}\n${r.addons.action} add-ons through productive-k3s-core: ${r.addons.names.map(t).join(", ")}`;
}

export function renderList(r: { instances: ListEntry[] }): string {
  if (r.instances.length === 0) return "no instances";
  const rows = [
    ["INSTANCE", "PROFILE", "VERSION", "ENGINE", "STATUS", "UPDATED"],
    ...r.instances.map((i) => [i.instance, t(i.profile), t(i.version), t(i.engine), i.status, i.updatedAt]),
  ];
  return formatColumns(rows);
}
