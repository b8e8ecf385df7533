/**
 * The installed add-on's lifecycle commands: `addon backup|backups|history|
 * rollback|validate-installed` (`test` is an alias of validate-installed).
 */
import { collect, durationOption, emit, FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import type { Command } from "commander";
import { addKubeOptions, HOST_CHANGES_HELP, type InstallFlags, installOptionsFrom, type KubeFlags } from "./options.js";

interface RunFlags extends KubeFlags {
  timeout: string;
  breakLock?: boolean;
}

function named(addon: Command, name: string, description: string): Command {
  return addKubeOptions(addon.command(name).description(description).argument("<name>", "add-on name"));
}

export function addLifecycleCommands(addon: Command): void {
  named(addon, "backup", "Run the installed add-on's backup phase (from its kept package) against the cluster")
    .option("-o, --output <dir>", "write the backup to this new or empty folder (default: kept beside the install record)")
    .option("--timeout <duration>", FLAG_HELP.timeout, durationOption, "10m")
    .option("--break-lock", FLAG_HELP.breakLock)
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", "\nExample:\n  productive-k3s-core addon backup registry --output ./registry-backup\n")
    .action(async (name: string, flags: RunFlags & { output?: string }) => {
      const { backupAddon } = await import("../operations/backup.js");
      const result = await backupAddon({ ...flags, name });
      const { renderBackup } = await import("./render-lifecycle.js");
      emit(flags, result, () => renderBackup(result));
    });

  named(addon, "backups", "List the backups kept for an add-on (newest first; they outlive an uninstall)")
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", "\nExample:\n  productive-k3s-core addon backups registry\n")
    .action(async (name: string, flags: KubeFlags) => {
      const { listBackups } = await import("../operations/backup.js");
      const result = await listBackups({ ...flags, name });
      const { renderBackups } = await import("./render-lifecycle.js");
      emit(flags, result, () => renderBackups(result));
    });

  named(addon, "history", "List an installed add-on's revisions: version, digest, values fingerprint, time, result")
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", "\nExample:\n  productive-k3s-core addon history longhorn\n")
    .action(async (name: string, flags: KubeFlags) => {
      const { addonHistory } = await import("../operations/history.js");
      const result = await addonHistory({ ...flags, name });
      const { renderHistory } = await import("./render-lifecycle.js");
      emit(flags, result, () => renderHistory(result));
    });

  named(addon, "rollback", "Reinstall the package of an earlier revision with what it was installed with (default: the previous one)")
    .option("--to <revision|version>", "the revision number, or a version (its latest deployed revision)")
    .option("-f, --values <file>", "values file (repeatable; default: the revision's, which must still hold the same values)", collect)
    .option("--set <key=value>", "Helm --set value (repeatable; the revision's must be given again: values are never stored)", collect)
    .option("--timeout <duration>", FLAG_HELP.timeout, durationOption, "10m")
    .option("--dry-run", "change nothing: check, then print what would run")
    .option("--force", "roll back even when the values given differ from the revision's")
    .option("--break-lock", FLAG_HELP.breakLock)
    .option("--allow-host-changes", HOST_CHANGES_HELP)
    .option("--no-backup", "do not back the installed version up first")
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", "\nExample:\n  productive-k3s-core addon rollback longhorn --to 2\n")
    .action(async (name: string, flags: InstallFlags & { to?: string }) => {
      const { rollbackAddon } = await import("../operations/rollback.js");
      const result = await rollbackAddon({ ...installOptionsFrom(flags), name, to: flags.to });
      const { renderInstall } = await import("./render.js");
      emit(flags, result, () => renderInstall(result));
    });

  named(addon, "validate-installed", "Re-run the installed add-on's validate phase against the cluster (like helm test)")
    .alias("test")
    .option("--timeout <duration>", FLAG_HELP.timeout, durationOption, "10m")
    .option("--break-lock", FLAG_HELP.breakLock)
    .option("--json", FLAG_HELP.json)
    .addHelpText(
      "after",
      "\nExample:\n  productive-k3s-core addon validate-installed longhorn\n  productive-k3s-core addon test longhorn\n",
    )
    .action(async (name: string, flags: RunFlags) => {
      const { validateInstalled } = await import("../operations/validate-installed.js");
      const result = await validateInstalled({ ...flags, name });
      const { renderValidateInstalled } = await import("./render-lifecycle.js");
      emit(flags, result, () => renderValidateInstalled(result));
    });
}
