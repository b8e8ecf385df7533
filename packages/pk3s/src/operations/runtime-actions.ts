/**
 * Delegations that take one package: `pk3s addon validate` → Core,
 * `pk3s profile validate|plan|install` → Infra. The package is resolved and
 * verified first; the runtime gets `--tgz <cached file>` plus the
 * pass-through options, inherits stdio, and its exit code becomes ours.
 * (What acts on an existing instance or add-on needs no package:
 * instance-actions.ts, addon-actions.ts.)
 */
import { resolve } from "node:path";
import { log } from "@productive-k3s/pkg-format/cli";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { runRuntime } from "../delegate/delegate.js";
import { type RuntimeName, requireRuntime } from "../delegate/runtime-bin.js";
import { type FetchFlags, resolveAndFetch, sessionOptions } from "./fetch-entry.js";
import { withSession } from "./session.js";

export type ProfileAction = "validate" | "plan" | "install";

export interface DelegationResult {
  name: string;
  version: string;
  catalog: string;
  file: string;
  digest: string;
  runtime: string;
  args: string[];
  exitCode: number;
}

export interface AddonValidateInput extends FetchFlags {
  spec: string;
  json: boolean;
  strict?: boolean | undefined;
  coreBin?: string | undefined;
  extra: string[];
}

/** Resolve and verify one package, then run a runtime on it; the runtime's exit code is the result's. */
async function delegateOne(
  input: FetchFlags & { spec: string },
  kind: "addon" | "profile",
  runtimeName: RuntimeName,
  bin: string | undefined,
  verb: string,
  argsFor: (tgz: string) => string[],
): Promise<DelegationResult> {
  return withSession(sessionOptions(input), async (session) => {
    const { entry, fetched } = await resolveAndFetch(session, input.spec, kind, input);
    const runtime = requireRuntime(runtimeName, bin);
    const args = argsFor(fetched.file);
    log(`${verb} ${entry.name}@${entry.version} with ${runtime.binName}`);
    const res = await runRuntime(runtime, args);
    return {
      name: entry.name,
      version: entry.version,
      catalog: entry.catalog,
      file: fetched.file,
      digest: fetched.digest,
      runtime: runtime.path,
      args,
      exitCode: res.exitCode,
    };
  });
}

export async function validateAddon(input: AddonValidateInput): Promise<DelegationResult> {
  return delegateOne(input, "addon", "core", input.coreBin, "validating", (tgz) => [
    "addon",
    "validate",
    "--tgz",
    tgz,
    ...(input.strict === true ? ["--strict"] : []),
    ...(input.json ? ["--json"] : []),
    ...input.extra,
  ]);
}

export interface AddonTemplateInput extends FetchFlags {
  spec: string;
  json: boolean;
  values?: string[] | undefined;
  set?: string[] | undefined;
  namespace?: string | undefined;
  releaseName?: string | undefined;
  kubeVersion?: string | undefined;
  coreBin?: string | undefined;
}

/** `productive-k3s-core addon template` on the verified file: Core renders it with install's values order. */
export async function templateAddon(input: AddonTemplateInput): Promise<DelegationResult> {
  return delegateOne(input, "addon", "core", input.coreBin, "rendering", (tgz) => [
    "addon",
    "template",
    "--tgz",
    tgz,
    ...(input.values ?? []).flatMap((f) => ["-f", resolve(f)]),
    ...(input.set ?? []).flatMap((kv) => ["--set", kv]),
    ...(input.namespace === undefined ? [] : ["--namespace", input.namespace]),
    ...(input.releaseName === undefined ? [] : ["--release-name", input.releaseName]),
    ...(input.kubeVersion === undefined ? [] : ["--kube-version", input.kubeVersion]),
    ...(input.json ? ["--json"] : []),
  ]);
}

/** Options forwarded to `productive-k3s-infra profile <action>`, mirroring its surface per action. */
export interface ProfilePassThrough {
  envFile?: string[] | undefined;
  set?: string[] | undefined;
  instance?: string | undefined;
  strict?: boolean | undefined;
  autoApprove?: boolean | undefined;
  yes?: boolean | undefined;
  purge?: boolean | undefined;
  breakLock?: boolean | undefined;
  /** commander's negated `--no-check`: false when given. */
  check?: boolean | undefined;
  showSensitive?: boolean | undefined;
  withAddons?: boolean | undefined;
  forgetAddons?: boolean | undefined;
}

export interface ProfileActionInput extends FetchFlags, ProfilePassThrough {
  action: ProfileAction;
  spec: string;
  json: boolean;
  infraBin?: string | undefined;
  extra: string[];
}

export function profileArgs(input: ProfileActionInput, tgz: string): string[] {
  return ["profile", input.action, "--tgz", tgz, ...passThroughArgs(input)];
}

/** Infra's flags for the pass-through options given, then `--json`, then the arguments after `--`. */
export function passThroughArgs(input: ProfilePassThrough & { json: boolean; extra: string[] }): string[] {
  const args: string[] = [];
  for (const f of input.envFile ?? []) args.push("--env-file", f);
  for (const kv of input.set ?? []) args.push("--set", kv);
  if (input.instance !== undefined) args.push("--instance", input.instance);
  if (input.strict === true) args.push("--strict");
  if (input.autoApprove === true) args.push("--auto-approve");
  if (input.yes === true) args.push("--yes");
  if (input.purge === true) args.push("--purge");
  if (input.breakLock === true) args.push("--break-lock");
  if (input.check === false) args.push("--no-check");
  if (input.showSensitive === true) args.push("--show-sensitive");
  if (input.withAddons === true) args.push("--with-addons");
  if (input.forgetAddons === true) args.push("--forget-addons");
  if (input.json) args.push("--json");
  args.push(...input.extra);
  return args;
}

export async function runProfileAction(input: ProfileActionInput): Promise<DelegationResult> {
  // Refused here, before a download, by the same rule Infra applies.
  if (input.instance !== undefined) assertValidName("instance", input.instance, "--instance");
  return delegateOne(input, "profile", "infra", input.infraBin, input.action, (tgz) => profileArgs(input, tgz));
}
