/** `productive-k3s-infra dev profile ...`: the source-first development surface (not a public contract). */
import { collect, emit, FLAG_HELP, log } from "@productive-k3s/pkg-format/cli";
import type { Command } from "commander";
import { addonsOnDestroy, approved, REQUIRE_INPUTS_HELP, runInput, withAddonFlags } from "./run-flags.js";

interface DevFlags {
  profileEnv: string;
  root?: string;
  envFile?: string[];
  set?: string[];
  instance?: string;
  json?: boolean;
  autoApprove?: boolean;
  yes?: boolean;
  breakLock?: boolean;
  purge?: boolean;
  out?: string;
  strict?: boolean;
  requireInputs?: boolean;
  withAddons?: boolean;
  forgetAddons?: boolean;
}

function devCommand(parent: Command, name: string, description: string, exampleText: string): Command {
  return parent
    .command(name)
    .description(description)
    .requiredOption("--profile-env <file>", "source profile env file: profiles/<category>/<scenario>/<name>.env")
    .option("--root <dir>", "repository root (default: the parent of the profiles/ directory holding the env file)")
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", `\nExample:\n  ${exampleText}\n`);
}

function withInputs(cmd: Command): Command {
  return cmd.option("--env-file <file>", FLAG_HELP.envFile, collect, []).option("--set <KEY=VALUE>", FLAG_HELP.inputSet, collect, []);
}

function withRunFlags(cmd: Command): Command {
  return withInputs(cmd)
    .option("--instance <name>", FLAG_HELP.instance)
    .option("--break-lock", FLAG_HELP.breakLock)
    .option("--state-backend <backend>", FLAG_HELP.stateBackend);
}

async function withPackage<T>(flags: DevFlags, fn: (tgz: string) => Promise<T>): Promise<T> {
  if (flags.instance !== undefined) {
    // --instance names a directory: checked before packing (the operations check it again).
    const { checkedInstanceName } = await import("../state/instance-store.js");
    checkedInstanceName(flags.instance);
  }
  const { packToTemp } = await import("../dev/source-profile.js");
  const packed = await packToTemp(flags.profileEnv, { root: flags.root });
  log(`packaged ${packed.name} ${packed.version} (${packed.digest}) from ${flags.profileEnv}`);
  try {
    return await fn(packed.file);
  } finally {
    await packed.cleanup();
  }
}

export function registerDevCommands(program: Command): void {
  const dev = program.command("dev").description("development surface: work from a source tree (profiles/ + scenarios/)");
  dev.addHelpText(
    "after",
    "\nExample:\n  productive-k3s-infra dev profile validate --profile-env ./profiles/cloud/aws-single-node/basic.env --env-file ./aws.env\n",
  );
  const profile = dev.command("profile").description("source profiles: validate, plan, apply, destroy, package");
  profile.addHelpText(
    "after",
    "\nExample:\n  productive-k3s-infra dev profile package --profile-env ./profiles/local/local-lab/lab.env --out ./dist\n",
  );

  withInputs(
    devCommand(
      profile,
      "validate",
      "package the source profile and check its contract (with --env-file/--set/--require-inputs: also the install's values)",
      "productive-k3s-infra dev profile validate --profile-env ./profiles/cloud/aws-single-node/basic.env",
    ),
  )
    .option("--require-inputs", REQUIRE_INPUTS_HELP)
    .option("--strict", FLAG_HELP.strict)
    .action(async (flags: DevFlags) => {
      const { validateProfile } = await import("../operations/validate.js");
      const { renderValidate } = await import("./render.js");
      const result = await withPackage(flags, (tgz) =>
        validateProfile({
          tgz,
          envFiles: flags.envFile ?? [],
          sets: flags.set ?? [],
          strict: flags.strict === true,
          requireInputs: flags.requireInputs === true,
        }),
      );
      emit(flags, { ...result, source: flags.profileEnv }, () => renderValidate(result));
    });

  withRunFlags(
    devCommand(
      profile,
      "plan",
      "package, then run the package plan flow",
      "productive-k3s-infra dev profile plan --profile-env ./profiles/cloud/aws-single-node/basic.env --env-file ./aws.env",
    ),
  ).action(async (flags: DevFlags) => {
    const { planProfile } = await import("../operations/plan.js");
    const { renderPlan } = await import("./render.js");
    const result = await withPackage(flags, (tgz) => planProfile(runInput(flags, tgz)));
    emit(flags, { ok: true, ...result }, () => renderPlan(result));
  });

  withRunFlags(
    devCommand(
      profile,
      "apply",
      "package, then run exactly the package install flow",
      "productive-k3s-infra dev profile apply --profile-env ./profiles/local/local-lab/lab.env --env-file ./lab.env --auto-approve",
    ),
  )
    .option("--auto-approve", FLAG_HELP.autoApprove)
    .option("--yes", FLAG_HELP.yes)
    .action(async (flags: DevFlags) => {
      const { installProfile } = await import("../operations/install.js");
      const { renderInstall } = await import("./render.js");
      const result = await withPackage(flags, (tgz) => installProfile({ ...runInput(flags, tgz), autoApprove: approved(flags) }));
      emit(flags, { ok: true, ...result }, () => renderInstall(result));
    });

  withAddonFlags(
    withRunFlags(
      devCommand(
        profile,
        "destroy",
        "package, then destroy the instance with that package",
        "productive-k3s-infra dev profile destroy --profile-env ./profiles/local/local-lab/lab.env --auto-approve",
      ),
    ),
  )
    .option("--auto-approve", FLAG_HELP.autoApprove)
    .option("--yes", FLAG_HELP.yes)
    .option("--purge", "also remove the instance's state")
    .action(async (flags: DevFlags) => {
      const addons = addonsOnDestroy(flags);
      const { destroyProfile } = await import("../operations/destroy.js");
      const { readSourceProfile } = await import("../dev/source-profile.js");
      const { renderDestroy } = await import("./render.js");
      const instance = flags.instance ?? (await readSourceProfile(flags.profileEnv, { root: flags.root })).profileName;
      const result = await withPackage(flags, (tgz) =>
        destroyProfile({ ...runInput(flags, tgz), instance, autoApprove: approved(flags), purge: flags.purge === true, addons }),
      );
      emit(flags, { ok: true, ...result }, () => renderDestroy(result));
    });

  devCommand(
    profile,
    "package",
    "build the deterministic profile.tgz of a source profile",
    "productive-k3s-infra dev profile package --profile-env ./profiles/cloud/aws-single-node/basic.env --out ./dist",
  )
    .requiredOption("--out <dir>", "output directory")
    .action(async (flags: DevFlags) => {
      const { packSourceProfile } = await import("../dev/source-profile.js");
      const packed = await packSourceProfile(flags.profileEnv, flags.out ?? ".", { root: flags.root });
      const result = { ok: true, file: packed.file, name: packed.name, version: packed.version, digest: packed.digest, size: packed.size };
      emit(flags, result, () => `${result.file}\n${result.name} ${result.version} ${result.digest} (${result.size} bytes)`);
    });
}
