/**
 * The input flags plan, install and destroy share on both surfaces (`profile`
 * and `dev profile`), and the operation options they become: one mapping, so
 * the two surfaces cannot drift apart.
 */
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
