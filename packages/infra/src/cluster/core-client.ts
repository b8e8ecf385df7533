/**
 * Infra's side of Core's process contract (DESIGN.md §1): Infra never imports
 * Core, it runs `productive-k3s-core` and reads its `--json` documents with
 * the shared schemas (pkg-format's runtime-documents). Core is found like pk3s
 * finds it: PK3S_CORE_BIN, the installed `@productive-k3s/core` package, PATH.
 * Without Core the add-ons on a cluster are unknown, which is a note, never a
 * failure.
 */
import { existsSync } from "node:fs";
import { findRuntime, type RuntimeCommand } from "@productive-k3s/pkg-format/runtime-bin";
import type { CoreAddonList } from "@productive-k3s/pkg-format/runtime-documents";

export type ClusterAddons = { state: "listed"; list: CoreAddonList } | { state: "unknown"; note: string };

/** productive-k3s-core, or why it cannot be run. */
export function findCore(): { core: RuntimeCommand } | { note: string } {
  const core = findRuntime("core", import.meta.url);
  if (core === undefined) return { note: "productive-k3s-core was not found (install it, put it on PATH, or set PK3S_CORE_BIN)" };
  if (!existsSync(core.path)) return { note: `productive-k3s-core was not found at ${core.path} (from PK3S_CORE_BIN)` };
  return { core };
}

/**
 * The environment Core gets from Infra: the caller's (its state dir, tools) plus the state backend Infra
 * runs on. Infra removed PK3S_STATE_BACKEND from its own environment so no tool inherits it; Core must
 * still see the same records (a team's PostgreSQL), never the local files by accident.
 */
export async function coreEnv(): Promise<Record<string, string>> {
  const { stateBackendChildEnv } = await import("@productive-k3s/pkg-format/state-selection");
  return stateBackendChildEnv();
}

/** Core's argv for `args`: [executable, ...arguments]. */
export function coreCommand(core: RuntimeCommand, args: readonly string[]): { file: string; args: string[] } {
  return { file: core.command, args: [...core.prefixArgs, ...args] };
}

/** Why a Core run failed, from its `--json` error document (or its last stderr line). */
function failure(stdout: string, stderr: string, exitCode: number | null): string {
  try {
    const doc = JSON.parse(stdout) as { error?: { message?: unknown } };
    if (typeof doc.error?.message === "string") return `${doc.error.message} (exit ${exitCode})`;
  } catch {
    // not a JSON document
  }
  const last = stderr.trim().split("\n").pop();
  return `${last === undefined || last === "" ? "no output" : last} (exit ${exitCode})`;
}

/** `productive-k3s-core addon list --kubeconfig <file> --json`, parsed with the shared schema. */
export async function listClusterAddons(kubeconfig: string): Promise<ClusterAddons> {
  const found = findCore();
  if ("note" in found) return { state: "unknown", note: `${found.note}: the add-ons on the cluster are unknown` };
  const { runProcess } = await import("@productive-k3s/pkg-format/process");
  const { CoreAddonList } = await import("@productive-k3s/pkg-format/runtime-documents");
  const { file, args } = coreCommand(found.core, ["addon", "list", "--kubeconfig", kubeconfig, "--json"]);
  const r = await runProcess(file, args, { timeoutMs: 120_000, toolName: found.core.binName, env: await coreEnv() });
  if (r.exitCode !== 0) {
    return { state: "unknown", note: `productive-k3s-core addon list failed: ${failure(r.stdout, r.stderr, r.exitCode)}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    return { state: "unknown", note: "productive-k3s-core addon list --json did not print JSON" };
  }
  const parsed = CoreAddonList.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      state: "unknown",
      note: `productive-k3s-core addon list --json printed an unexpected document (${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"})`,
    };
  }
  return { state: "listed", list: parsed.data };
}
