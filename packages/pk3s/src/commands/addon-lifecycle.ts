/**
 * `pk3s addon history|rollback|backup|backups|test NAME`: the installed
 * add-on's lifecycle, delegated to productive-k3s-core as it is (through
 * runAddonAction, like `addon list|status|uninstall`: the cluster from
 * `--kubeconfig`/`--context` or an Infra `--instance`). They work from
 * Core's install records and kept packages, so no catalog is read and
 * nothing is downloaded; every other option given is forwarded, Core's
 * output (its `--json` document too) is the output and its exit code ours.
 */
import { collect, durationOption, FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import type { Command } from "commander";
import type { AddonAction } from "../operations/addon-actions.js";
import { addClusterFlags, type ClusterFlags, HOST_CHANGES_HELP, propagateExit, withJson } from "./options.js";

interface Verb {
  /** Core's subcommand. */
  core: AddonAction;
  description: string;
  example: string;
  options: (cmd: Command) => Command;
}

const VERBS: Record<string, Verb> = {
  history: {
    core: "history",
    description: "list an installed add-on's revisions (version, digest, values fingerprint, time, result)",
    example: "pk3s addon history longhorn",
    options: (c) => c,
  },
  rollback: {
    core: "rollback",
    description: "reinstall the package of an earlier revision with what it was installed with (default: the previous one)",
    example: "pk3s addon rollback longhorn --to 2",
    options: (c) =>
      c
        .option("--to <revision|version>", "the revision number, or a version")
        .option("-f, --values <file>", "values file (repeatable; default: the revision's)", collect)
        .option("--set <key=value>", "Helm --set value (repeatable; the revision's must be given again)", collect)
        .option("--timeout <duration>", FLAG_HELP.timeout, durationOption)
        .option("--dry-run", "change nothing: print what would run")
        .option("--force", "roll back even when the values differ from the revision's")
        .option("--break-lock", FLAG_HELP.breakLock)
        .option("--allow-host-changes", HOST_CHANGES_HELP)
        .option("--no-backup", "do not back the installed version up first"),
  },
  backup: {
    core: "backup",
    description: "run the installed add-on's backup phase (kept beside its install record, or into --output)",
    example: "pk3s addon backup registry --output ./registry-backup",
    options: (c) =>
      c
        .option("-o, --output <dir>", "a new or empty folder for the backup")
        .option("--timeout <duration>", FLAG_HELP.timeout, durationOption)
        .option("--break-lock", FLAG_HELP.breakLock),
  },
  backups: {
    core: "backups",
    description: "list the backups kept for an add-on",
    example: "pk3s addon backups registry",
    options: (c) => c,
  },
  test: {
    core: "validate-installed",
    description: "re-run the installed add-on's validate phase against the cluster (like helm test)",
    example: "pk3s addon test longhorn",
    options: (c) => c.option("--timeout <duration>", FLAG_HELP.timeout, durationOption).option("--break-lock", FLAG_HELP.breakLock),
  },
};

/** pk3s's own options: the cluster (runAddonAction turns it into Core's flags), the runtimes, --json. */
const OWN = new Set(["--kubeconfig", "--context", "--instance", "--core-bin", "--infra-bin", "--json"]);

/** The other options given, as Core's flags. */
export function forwardedFlags(cmd: Command, values: Record<string, unknown>): string[] {
  const args: string[] = [];
  for (const o of cmd.options) {
    const flag = o.long;
    if (flag === undefined || OWN.has(flag)) continue;
    const v = values[o.attributeName()];
    if (o.negate) {
      if (v === false) args.push(flag);
    } else if (v === true) args.push(flag);
    else if (typeof v === "string") args.push(flag, v);
    else if (Array.isArray(v)) for (const item of v) args.push(flag, String(item));
  }
  return args;
}

export function registerAddonLifecycle(addon: Command): void {
  for (const [name, verb] of Object.entries(VERBS)) {
    const cmd = withJson(
      verb.options(
        addClusterFlags(
          addon
            .command(name)
            .description(`${verb.description} (productive-k3s-core addon ${verb.core})`)
            .argument("<name>", "installed add-on name"),
        ),
      ),
    ).addHelpText("after", `\nExample:\n  ${verb.example}\n`);
    cmd.action(async (addonName: string, values: ClusterFlags & Record<string, unknown>, self: Command) => {
      const { runAddonAction } = await import("../operations/addon-actions.js");
      const r = await runAddonAction({
        kubeconfig: values.kubeconfig,
        context: values.context,
        instance: values.instance,
        coreBin: values.coreBin,
        infraBin: values.infraBin,
        action: verb.core,
        name: addonName,
        json: values.json === true,
        extra: forwardedFlags(self, values),
      });
      propagateExit(r.exitCode);
    });
  }
}
