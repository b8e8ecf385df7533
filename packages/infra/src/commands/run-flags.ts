/**
 * The input flags plan, install and destroy share on both surfaces (`profile`
 * and `dev profile`), and the operation options they become: one mapping, so
 * the two surfaces cannot drift apart.
 */
import { UsageError } from "@productive-k3s/pkg-format/errors";
import type { Command } from "commander";

export interface RunFlags {
  envFile?: string[];
  set?: string[];
  instance?: string;
  autoApprove?: boolean;
  yes?: boolean;
  breakLock?: boolean;
}

export function runInput<T extends string | undefined>(flags: RunFlags, tgz: T) {
  return { tgz, envFiles: flags.envFile ?? [], sets: flags.set ?? [], instance: flags.instance, breakLock: flags.breakLock === true };
}

/** `--yes` is an alias of `--auto-approve`. */
export function approved(flags: RunFlags): boolean {
  return flags.autoApprove === true || flags.yes === true;
}

export const REQUIRE_INPUTS_HELP =
  "demand a value for every required input, as install does (implied by --env-file and --set; without them validate checks the contract and lists the inputs an install needs)";

/** destroy's flags for the add-ons Core installed on the instance's cluster. */
export function withAddonFlags(cmd: Command): Command {
  return cmd
    .option("--with-addons", "first uninstall the add-ons Core installed on the instance's cluster (dependents first)")
    .option("--forget-addons", "drop Core's records of the add-ons on the instance's cluster (they go with the cluster)");
}

export function addonsOnDestroy(flags: { withAddons?: boolean; forgetAddons?: boolean }): "refuse" | "uninstall" | "forget" {
  if (flags.withAddons === true && flags.forgetAddons === true) {
    throw new UsageError("--with-addons and --forget-addons exclude each other", {
      hint: "--with-addons uninstalls the add-ons; --forget-addons only drops Core's records of them",
    });
  }
  return flags.withAddons === true ? "uninstall" : flags.forgetAddons === true ? "forget" : "refuse";
}
