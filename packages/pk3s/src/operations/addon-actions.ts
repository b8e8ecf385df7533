/**
 * `pk3s addon list|status|uninstall` (and the installed add-on's lifecycle:
 * `history|rollback|backup|backups|test`, addon-lifecycle.ts): what is on a cluster is Core's to say,
 * from its install records (an uninstall runs the package Core kept), so
 * these go straight to `productive-k3s-core` and never read a catalog. The
 * cluster comes from `--kubeconfig`/`--context` or an Infra `--instance`,
 * as for `pk3s addon install`.
 */
import { type ExitCodeValue, Pk3sError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { runRuntime } from "../delegate/delegate.js";
import { requireRuntime } from "../delegate/runtime-bin.js";
import { type ClusterFlags, checkClusterFlags, clusterFor } from "./cluster-target.js";
import type { RuntimeRun } from "./instance-actions.js";

/** Core's `addon` subcommands for an installed add-on (the lifecycle ones forward their flags through `extra`). */
export type AddonAction = "list" | "status" | "uninstall" | "history" | "rollback" | "backup" | "backups" | "validate-installed";

export interface AddonActionInput extends ClusterFlags {
  action: AddonAction;
  /** The add-on (status, uninstall). */
  name?: string | undefined;
  force?: boolean | undefined;
  timeout?: string | undefined;
  breakLock?: boolean | undefined;
  /** Forwarded to Core: `--allow-host-changes`, `--no-backup` (backup false). */
  allowHostChanges?: boolean | undefined;
  backup?: boolean | undefined;
  json: boolean;
  coreBin?: string | undefined;
  extra: string[];
}

export async function runAddonAction(input: AddonActionInput): Promise<RuntimeRun> {
  checkClusterFlags(input);
  const name = input.name === undefined ? [] : [assertValidName("package", input.name, "add-on name")];
  const core = requireRuntime("core", input.coreBin);
  const cluster = await clusterFor(input);
  if ("exitCode" in cluster) {
    // Infra said why on stderr; its exit code is ours, and --json still gets one document.
    throw new Pk3sError("E_INSTANCE", cluster.exitCode as ExitCodeValue, `no kubeconfig from instance "${input.instance}"`, {
      where: `productive-k3s-infra profile outputs --instance ${input.instance}`,
      hint: `check the instance with: pk3s profile status ${input.instance}`,
    });
  }
  const args = ["addon", input.action, ...name, ...cluster.args];
  if (input.force === true) args.push("--force");
  if (input.timeout !== undefined) args.push("--timeout", input.timeout);
  if (input.breakLock === true) args.push("--break-lock");
  if (input.allowHostChanges === true) args.push("--allow-host-changes");
  if (input.backup === false) args.push("--no-backup");
  if (input.json) args.push("--json");
  args.push(...input.extra);
  const res = await runRuntime(core, args);
  return { runtime: core.path, args, exitCode: res.exitCode };
}
