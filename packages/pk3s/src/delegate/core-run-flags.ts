/** The flags pk3s forwards to every Core run that installs, upgrades or removes add-ons (add-on and stack commands). */
export interface CoreRunFlags {
  timeout?: string | undefined;
  breakLock?: boolean | undefined;
  /** `--allow-host-changes`: add-ons whose spec.impact.host is true may change this machine. */
  allowHostChanges?: boolean | undefined;
  /** false with `--no-backup`. */
  backup?: boolean | undefined;
}

/** Core's argv for those flags. */
export function coreRunArgs(flags: CoreRunFlags): string[] {
  const args: string[] = [];
  if (flags.timeout !== undefined) args.push("--timeout", flags.timeout);
  if (flags.breakLock === true) args.push("--break-lock");
  if (flags.allowHostChanges === true) args.push("--allow-host-changes");
  if (flags.backup === false) args.push("--no-backup");
  return args;
}
