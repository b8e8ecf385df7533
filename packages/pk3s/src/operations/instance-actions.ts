/**
 * `pk3s profile status|destroy|outputs <instance>` and `pk3s profile list`:
 * they act on what Infra already keeps (an instance holds the package it was
 * installed from), so they go straight to `productive-k3s-infra` by instance
 * name and never read a catalog: an instance stays manageable whatever
 * catalogs are configured, reachable or removed.
 */
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import { runRuntime } from "../delegate/delegate.js";
import { type RuntimeCommand, requireRuntime } from "../delegate/runtime-bin.js";
import { type ProfilePassThrough, passThroughArgs } from "./runtime-actions.js";

export type InstanceAction = "status" | "destroy" | "outputs";

export interface RuntimeRun {
  runtime: string;
  args: string[];
  exitCode: number;
}

export interface InstanceActionInput extends Omit<ProfilePassThrough, "instance"> {
  action: InstanceAction;
  /** The instance; with `instance`, the profile it was installed from. */
  name?: string | undefined;
  instance?: string | undefined;
  json: boolean;
  infraBin?: string | undefined;
  extra: string[];
}

/**
 * The instance a command names: `--instance`, else the argument (an
 * instance's default name is its profile's name, so `pk3s profile status
 * local-lab` finds what `pk3s profile install local-lab` made).
 */
export function instanceName(input: { name?: string | undefined; instance?: string | undefined; action: string }): string {
  const raw = input.instance ?? input.name;
  if (raw === undefined) {
    throw new UsageError(`pk3s profile ${input.action} needs an instance name`, {
      hint: `pass it as the argument (pk3s profile ${input.action} lab) or with --instance; list them with pk3s profile list`,
    });
  }
  if (input.instance === undefined && /[/@]/.test(raw)) {
    throw new UsageError(`pk3s profile ${input.action} takes an instance name, not a package spec: ${quoteForTerminal(raw)}`, {
      hint: `an instance keeps the package it was installed from, so no catalog is read: pass the instance name (pk3s profile list shows them)`,
    });
  }
  return assertValidName("instance", raw, input.instance === undefined ? "instance name" : "--instance");
}

/**
 * With both a profile name and `--instance`, the instance must have been
 * installed from that profile: a destroy aimed at the wrong instance is
 * refused before it runs. When Infra cannot say (no such instance), the
 * action itself reports it.
 */
async function checkProfileOf(infra: RuntimeCommand, action: InstanceAction, instance: string, profile: string): Promise<void> {
  const res = await runRuntime(infra, ["profile", "status", "--instance", instance, "--no-check", "--json"], {
    captureStdout: true,
    captureStderr: true,
  });
  if (res.exitCode !== 0) return;
  let recorded: unknown;
  try {
    recorded = (JSON.parse(res.stdout) as { profile?: unknown }).profile;
  } catch {
    return;
  }
  if (typeof recorded === "string" && recorded !== profile) {
    throw new UsageError(`instance "${instance}" was installed from profile "${recorded}", not "${profile}"`, {
      hint: `name the instance alone: pk3s profile ${action} ${instance}`,
    });
  }
}

export async function runInstanceAction(input: InstanceActionInput): Promise<RuntimeRun> {
  const instance = instanceName(input);
  const infra = requireRuntime("infra", input.infraBin);
  if (input.instance !== undefined && input.name !== undefined) {
    await checkProfileOf(infra, input.action, instance, assertValidName("package", input.name, "profile name"));
  }
  const args = ["profile", input.action, "--instance", instance, ...passThroughArgs({ ...input, instance: undefined })];
  const res = await runRuntime(infra, args);
  return { runtime: infra.path, args, exitCode: res.exitCode };
}

export async function listInstances(input: { json: boolean; infraBin?: string | undefined; extra: string[] }): Promise<RuntimeRun> {
  const infra = requireRuntime("infra", input.infraBin);
  const args = ["profile", "list", ...(input.json ? ["--json"] : []), ...input.extra];
  const res = await runRuntime(infra, args);
  return { runtime: infra.path, args, exitCode: res.exitCode };
}
