import { collect, durationOption, FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import type { Command } from "commander";

/** Flags shared by install-like commands (`addon install|upgrade`, `dev addon install`). */
export interface InstallFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  values?: string[];
  set?: string[];
  timeout: string;
  dryRun?: boolean;
  force?: boolean;
  breakLock?: boolean;
  assumeInstalled?: string[];
  dependencyTgz?: string[];
  packageOptions?: string;
  stack?: string;
  stackLockDigest?: string;
  strict?: boolean;
  allowHostChanges?: boolean;
  /** false with --no-backup */
  backup?: boolean;
  json?: boolean;
}

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  json?: boolean;
}

/** Cluster selection, and where the cluster's install records live. */
export function addKubeOptions(cmd: Command): Command {
  return cmd
    .option("--kubeconfig <file>", FLAG_HELP.kubeconfig)
    .option("--context <name>", FLAG_HELP.context)
    .option("--state-backend <backend>", FLAG_HELP.stateBackend);
}

export function addInstallOptions(cmd: Command): Command {
  return addKubeOptions(cmd)
    .option("-n, --namespace <ns>", "namespace (default: spec.chart.namespace, then the add-on name)")
    .option("-f, --values <file>", "extra Helm values file, after the package's own (repeatable)", collect)
    .option("--set <key=value>", "Helm --set value, after all values files (repeatable)", collect)
    .option("--timeout <duration>", FLAG_HELP.timeout, durationOption, "10m")
    .option("--dry-run", "change nothing: check package, cluster, compatibility and dependencies, then print the commands that would run")
    .option("--force", "reinstall even if the same version and package are already installed")
    .option(
      "--assume-installed <name@version>",
      "with --dry-run: treat this add-on as installed when checking dependencies (repeatable)",
      collect,
    )
    .option(
      "--dependency-tgz <file>",
      "a dependency package to install first, in the same run (repeatable, in the order given; skipped when the cluster already " +
        "has a version satisfying what this run requires of it); -n, -f, --set and --force apply to the main package only",
      collect,
    )
    .option(
      "--package-options <file>",
      'JSON file of per-package options by add-on name, for a run of several packages: {"<name>": {"values": [files], "set": ' +
        '["key=value"], "namespace": "<ns>"}}',
    )
    .option(
      "--stack <name>",
      "the packages of this run are the stack NAME's (pk3s stack install): each is installed at exactly the package given " +
        "(never skipped as a satisfied dependency) and its record names the stack",
    )
    .option("--stack-lock-digest <digest>", "with --stack: sha256 digest of the stack's lock file, kept in the records")
    .option("--break-lock", FLAG_HELP.breakLock)
    .option("--strict", FLAG_HELP.strict)
    .option("--allow-host-changes", HOST_CHANGES_HELP)
    .option("--no-backup", "do not back the installed version up before an upgrade or rollback")
    .option("--json", FLAG_HELP.json);
}

export const HOST_CHANGES_HELP =
  "let an add-on whose spec.impact.host is true change the machine Core runs on (packages, services, /etc/hosts, ...); " +
  "without it Core asks on a terminal, else stops (exit 4)";

export function installOptionsFrom(flags: InstallFlags) {
  return {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    namespace: flags.namespace,
    values: flags.values ?? [],
    sets: flags.set ?? [],
    timeout: flags.timeout,
    dryRun: flags.dryRun === true,
    force: flags.force === true,
    breakLock: flags.breakLock === true,
    assumeInstalled: flags.assumeInstalled ?? [],
    dependencyTgzs: flags.dependencyTgz ?? [],
    strict: flags.strict === true,
    packageOptions: flags.packageOptions,
    stack: stackFrom(flags),
    allowHostChanges: flags.allowHostChanges === true,
    noBackup: flags.backup === false,
  };
}

function stackFrom(flags: InstallFlags): { name: string; lockDigest?: string | undefined } | undefined {
  if (flags.stack === undefined) {
    if (flags.stackLockDigest !== undefined) throw new UsageError("--stack-lock-digest needs --stack <name>");
    return undefined;
  }
  return { name: flags.stack, lockDigest: flags.stackLockDigest };
}
