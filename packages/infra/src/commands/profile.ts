/** `productive-k3s-infra profile ...`: the public, package-first surface. Flags in, emit() out. */
import { collect, emit, FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import type { Command } from "commander";
import { addonsOnDestroy, approved, REQUIRE_INPUTS_HELP, runInput, withAddonFlags } from "./run-flags.js";

interface PackageFlags {
  tgz: string;
  envFile?: string[];
  set?: string[];
  instance?: string;
  json?: boolean;
  strict?: boolean;
  requireInputs?: boolean;
  autoApprove?: boolean;
  yes?: boolean;
  breakLock?: boolean;
}

function withInputs(cmd: Command): Command {
  return cmd.option("--env-file <file>", FLAG_HELP.envFile, collect, []).option("--set <KEY=VALUE>", FLAG_HELP.inputSet, collect, []);
}

function example(cmd: Command, text: string): Command {
  return cmd.addHelpText("after", `\nExample:\n  ${text}\n`);
}

export function registerProfileCommands(program: Command): void {
  const profile = program.command("profile").description("run packaged profiles (profile.tgz)");
  example(profile, "productive-k3s-infra profile install --tgz ./local-lab-1.0.0.tgz --env-file ./local.env --auto-approve");

  example(
    withInputs(
      profile.command("validate").description("check a package's contract, and with values the inputs it would run with (runs nothing)"),
    )
      .requiredOption("--tgz <file>", "profile package")
      .option("--require-inputs", REQUIRE_INPUTS_HELP)
      .option("--strict", FLAG_HELP.strict)
      .option("--json", FLAG_HELP.json),
    "productive-k3s-infra profile validate --tgz ./aws-single-node-basic-1.0.0.tgz --env-file ./aws.env",
  ).action(async (flags: PackageFlags) => {
    const { validateProfile } = await import("../operations/validate.js");
    const { renderValidate } = await import("./render.js");
    const result = await validateProfile({
      tgz: flags.tgz,
      envFiles: flags.envFile ?? [],
      sets: flags.set ?? [],
      strict: flags.strict === true,
      requireInputs: flags.requireInputs === true,
    });
    emit(flags, result, () => renderValidate(result));
  });

  example(
    withInputs(profile.command("plan").description("preview the changes; OpenTofu keeps the plan for install"))
      .requiredOption("--tgz <file>", "profile package")
      .option("--instance <name>", FLAG_HELP.instance)
      .option("--break-lock", FLAG_HELP.breakLock)
      .option("--state-backend <backend>", FLAG_HELP.stateBackend)
      .option("--json", FLAG_HELP.json),
    "productive-k3s-infra profile plan --tgz ./aws-single-node-basic-1.0.0.tgz --env-file ./aws.env --instance staging",
  ).action(async (flags: PackageFlags) => {
    const { planProfile } = await import("../operations/plan.js");
    const { renderPlan } = await import("./render.js");
    const result = await planProfile(runInput(flags, flags.tgz));
    emit(flags, { ok: true, ...result }, () => renderPlan(result));
  });

  example(
    withInputs(profile.command("install").description("run the profile: engine apply, installScript, store outputs"))
      .requiredOption("--tgz <file>", "profile package")
      .option("--instance <name>", FLAG_HELP.instance)
      .option("--auto-approve", FLAG_HELP.autoApprove)
      .option("--yes", FLAG_HELP.yes)
      .option("--break-lock", FLAG_HELP.breakLock)
      .option("--state-backend <backend>", FLAG_HELP.stateBackend)
      .option("--json", FLAG_HELP.json),
    "productive-k3s-infra profile install --tgz ./local-lab-1.0.0.tgz --env-file ./local-lab.env --auto-approve",
  ).action(async (flags: PackageFlags) => {
    const { installProfile } = await import("../operations/install.js");
    const { renderInstall } = await import("./render.js");
    const result = await installProfile({ ...runInput(flags, flags.tgz), autoApprove: approved(flags) });
    emit(flags, { ok: true, ...result }, () => renderInstall(result));
  });

  example(
    profile
      .command("status")
      .description("the stored state of an instance (no package needed)")
      .option("--tgz <file>", "use the package's profile name as the instance name")
      .option("--instance <name>", "productive-k3s-infra instance name (default with --tgz: the profile's name)")
      .option("--no-check", "do not run the profile's statusScript")
      .option("--state-backend <backend>", FLAG_HELP.stateBackend)
      .option("--json", FLAG_HELP.json),
    "productive-k3s-infra profile status --instance staging --json",
  ).action(async (flags: { tgz?: string; instance?: string; json?: boolean; check?: boolean }) => {
    const { profileStatus } = await import("../operations/status.js");
    const { renderStatus } = await import("./render.js");
    const result = await profileStatus({ instance: flags.instance, tgz: flags.tgz, check: flags.check !== false });
    emit(flags, { ok: true, ...result }, () => renderStatus(result));
  });

  example(
    profile
      .command("outputs")
      .description("the outputs of an instance (sensitive ones masked)")
      .requiredOption("--instance <name>", "productive-k3s-infra instance name")
      .option("--show-sensitive", "print sensitive outputs in clear")
      .option("--state-backend <backend>", FLAG_HELP.stateBackend)
      .option("--json", FLAG_HELP.json),
    "productive-k3s-infra profile outputs --instance local-lab --json",
  ).action(async (flags: { instance: string; showSensitive?: boolean; json?: boolean }) => {
    const { profileOutputs } = await import("../operations/status.js");
    const { renderOutputs } = await import("./render.js");
    const result = await profileOutputs({ instance: flags.instance, showSensitive: flags.showSensitive === true });
    emit(flags, { ok: true, instance: result.instance, outputs: result.outputs }, () => renderOutputs(result));
  });

  example(
    withAddonFlags(withInputs(profile.command("destroy").description("tear an instance down (state kept until --purge)")))
      .option("--tgz <file>", "package to use instead of the stored copy")
      .option("--instance <name>", "productive-k3s-infra instance name (default with --tgz: the profile's name)")
      .option("--auto-approve", FLAG_HELP.autoApprove)
      .option("--yes", FLAG_HELP.yes)
      .option("--purge", "also remove the instance's state")
      .option("--break-lock", FLAG_HELP.breakLock)
      .option("--state-backend <backend>", FLAG_HELP.stateBackend)
      .option("--json", FLAG_HELP.json),
    "productive-k3s-infra profile destroy --instance staging --with-addons --auto-approve --purge",
  ).action(async (flags: Omit<PackageFlags, "tgz"> & { tgz?: string; purge?: boolean; withAddons?: boolean; forgetAddons?: boolean }) => {
    const addons = addonsOnDestroy(flags);
    const { destroyProfile } = await import("../operations/destroy.js");
    const { instanceFromOptions } = await import("../operations/status.js");
    const { renderDestroy } = await import("./render.js");
    const instance = await instanceFromOptions({ instance: flags.instance, tgz: flags.tgz });
    const result = await destroyProfile({
      ...runInput(flags, flags.tgz),
      instance,
      autoApprove: approved(flags),
      purge: flags.purge === true,
      addons,
    });
    emit(flags, { ok: true, ...result }, () => renderDestroy(result));
  });

  example(
    profile
      .command("list")
      .description("list instances")
      .option("--state-backend <backend>", FLAG_HELP.stateBackend)
      .option("--json", FLAG_HELP.json),
    "productive-k3s-infra profile list --json",
  ).action(async (flags: { json?: boolean }) => {
    const { listInstances } = await import("../operations/status.js");
    const { renderList } = await import("./render.js");
    const result = await listInstances();
    emit(flags, { ok: true, ...result }, () => renderList(result));
  });
}
