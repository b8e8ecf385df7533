/**
 * `pk3s addon ...` and `pk3s profile ...`: show, pull and the delegating
 * verbs. Verbs that take a package resolve it from the catalogs; verbs that
 * act on what is installed (add-on list/status/uninstall, instance
 * status/destroy/outputs/list) go straight to the runtime, catalogs unread.
 */
import { collect, durationOption, emit, FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { Command } from "commander";
import type { InstanceAction } from "../operations/instance-actions.js";
import type { ProfileAction, ProfilePassThrough } from "../operations/runtime-actions.js";
import { registerAddonLifecycle } from "./addon-lifecycle.js";
import {
  addClusterFlags,
  type ClusterFlags,
  type FetchOptionValues,
  HOST_CHANGES_HELP,
  propagateExit,
  withFetchOptions,
  withJson,
} from "./options.js";

type Kind = "addon" | "profile";

interface AddonInstallFlags {
  kubeconfig?: string;
  context?: string;
  instance?: string;
  values: string[];
  set: string[];
  namespace?: string;
  timeout?: string;
  force?: boolean;
  breakLock?: boolean;
  allowHostChanges?: boolean;
  backup?: boolean;
  dryRun?: boolean;
  coreBin?: string;
  infraBin?: string;
}

interface AddonTemplateFlags {
  values: string[];
  set: string[];
  namespace?: string;
  releaseName?: string;
  kubeVersion?: string;
  coreBin?: string;
}

function registerShowPull(group: Command, kind: Kind): void {
  withFetchOptions(
    group
      .command("show <spec>")
      .description(`versions, digest, size, description, compatibility, dependencies${kind === "profile" ? " and inputs" : ""}`),
  )
    .addHelpText("after", `\nExample:\n  pk3s ${kind} show ${kind === "addon" ? "longhorn@^1" : "aws-single-node-basic"}\n`)
    .action(async (spec: string, o: FetchOptionValues) => {
      const { show, renderDetails } = await import("../operations/show.js");
      const r = await show(spec, { ...o, type: kind });
      emit(o, { ok: true, package: r }, () => renderDetails(r));
    });

  withFetchOptions(
    group
      .command("pull <spec>")
      .description("download and verify a package into a folder")
      .option("-o, --output <dir>", "destination folder (default .)"),
  )
    .addHelpText(
      "after",
      `\nExample:\n  pk3s ${kind} pull ${kind === "addon" ? "longhorn@1.0.0" : "aws-single-node-basic"} --output ./packages\n`,
    )
    .action(async (spec: string, o: FetchOptionValues & { output?: string }) => {
      const { pull } = await import("../operations/pull.js");
      const r = await pull(spec, kind, o.output, o);
      emit(o, { ok: true, ...r }, () =>
        terminalLine(`${r.file} (${r.name}@${r.version}, ${r.digest}${r.fromCache ? ", from cache" : ""})`),
      );
    });
}

function registerContents(group: Command, kind: Kind): void {
  withFetchOptions(
    group
      .command("contents <spec>")
      .alias("inspect")
      .description("list the files inside a package (verified, not extracted); <spec> may also be a local .tgz"),
  )
    .addHelpText("after", `\nExample:\n  pk3s ${kind} contents ${kind === "addon" ? "longhorn@1.0.0" : "aws-single-node-basic"}\n`)
    .action(async (spec: string, o: FetchOptionValues) => {
      const { packageContents } = await import("../operations/package-contents.js");
      const r = await packageContents(spec, kind, o);
      emit(o, { ok: true, ...r }, () =>
        [
          `${r.kind} ${r.name}@${r.version}${r.catalog === null ? "" : ` [${r.catalog}]`} ${r.digest}`,
          ...r.files.map((f) => `  ${f.mode}  ${String(f.size).padStart(10)}  ${f.path}`),
        ]
          .map(terminalLine)
          .join("\n"),
      );
    });
}

export function registerAddon(program: Command): void {
  const addon = program.command("addon").description("find, inspect and install add-ons");
  addon.addHelpText("after", "\nExample:\n  pk3s addon install longhorn --kubeconfig ~/.kube/config --dry-run\n");
  registerShowPull(addon, "addon");
  registerContents(addon, "addon");

  addInstallFlags(
    withFetchOptions(
      addon
        .command("install <spec>")
        .description("resolve dependencies, verify every package, then install them in order through productive-k3s-core"),
    ),
    "reinstall the requested add-on even if that version is installed",
  )
    .addHelpText("after", "\nExample:\n  pk3s addon install internal/longhorn@^1.2 --instance lab -f values.yaml --set replicas=2\n")
    .action(async (spec: string, o: FetchOptionValues & AddonInstallFlags) => {
      const { installAddon, renderInstall } = await import("../operations/addon-install.js");
      const r = await installAddon({ ...o, spec, dryRun: o.dryRun === true, json: o.json === true });
      emit(o, r, () => renderInstall(r));
      propagateExit(r.exitCode);
    });

  withFetchOptions(
    addon
      .command("validate <spec> [runtimeArgs...]")
      .description("verify a package and have productive-k3s-core validate it (arguments after -- go to Core)")
      .option("--strict", FLAG_HELP.strict)
      .option("--core-bin <path>", "productive-k3s-core to run"),
  )
    .addHelpText("after", "\nExample:\n  pk3s addon validate longhorn@1.0.0\n")
    .action(async (spec: string, extra: string[], o: FetchOptionValues & { coreBin?: string; strict?: boolean }) => {
      const { validateAddon } = await import("../operations/runtime-actions.js");
      const r = await validateAddon({ ...o, spec, json: o.json === true, extra });
      propagateExit(r.exitCode);
    });

  withFetchOptions(
    addon
      .command("template <spec>")
      .description("verify a package and print the manifests `addon install` would apply (productive-k3s-core addon template)")
      .option("-f, --values <file>", "values file, after the package's own (repeatable)", collect, [])
      .option("--set <key=value>", "value override, after all values files (repeatable)", collect, [])
      .option("-n, --namespace <ns>", "namespace (Core's default: the package's)")
      .option("--release-name <name>", "release name (Core's default: the package's)")
      .option("--kube-version <version>", "Kubernetes version the chart sees as .Capabilities.KubeVersion")
      .option("--core-bin <path>", "productive-k3s-core to run"),
  )
    .addHelpText("after", "\nExample:\n  pk3s addon template longhorn@^1 -f values.yaml --set replicas=2 > longhorn.yaml\n")
    .action(async (spec: string, o: FetchOptionValues & AddonTemplateFlags) => {
      const { templateAddon } = await import("../operations/runtime-actions.js");
      const r = await templateAddon({ ...o, spec, json: o.json === true });
      propagateExit(r.exitCode);
    });

  registerAddonClusterVerbs(addon);
  registerAddonLifecycle(addon);
}

/** The flags of `addon install` and `addon upgrade`. */
function addInstallFlags(cmd: Command, force: string): Command {
  return addClusterFlags(cmd)
    .option("-f, --values <file>", "values file for the requested add-on (repeatable)", collect, [])
    .option("--set <key=value>", "value override for the requested add-on (repeatable)", collect, [])
    .option("-n, --namespace <ns>", "namespace for the requested add-on (Core's default: the package's)")
    .option("--timeout <duration>", FLAG_HELP.timeout, durationOption)
    .option("--force", force)
    .option("--break-lock", FLAG_HELP.breakLock)
    .option("--allow-host-changes", HOST_CHANGES_HELP)
    .option("--no-backup", "Core does not back an installed version up before upgrading it")
    .option("--dry-run", "change nothing: print the plan and ask Core for a dry run");
}

type ProfileFlag = "envFile" | "set" | "instance" | "strict" | "approve" | "purge" | "breakLock" | "noCheck" | "showSensitive" | "addons";

/** Which Infra options each verb takes (pk3s mirrors productive-k3s-infra's surface). */
const PROFILE_VERBS: Record<ProfileAction, { description: string; flags: ProfileFlag[]; example: string }> = {
  validate: {
    description: "verify a profile package and check it and its inputs with productive-k3s-infra (runs nothing)",
    flags: ["envFile", "set", "strict"],
    example: "pk3s profile validate aws-single-node-basic --env-file ./aws.env",
  },
  plan: {
    description: "preview the changes the profile would make",
    flags: ["envFile", "set", "instance", "breakLock"],
    example: "pk3s profile plan aws-single-node-basic@594a7c9 --env-file ./aws.env --instance lab",
  },
  install: {
    description: "provision the profile's cluster",
    flags: ["envFile", "set", "instance", "approve", "breakLock"],
    example: "pk3s profile install local-lab --env-file ./local-lab.env --instance lab --auto-approve",
  },
};

function addProfileFlags(cmd: Command, flags: ProfileFlag[]): Command {
  for (const f of flags) {
    if (f === "envFile") cmd.option("--env-file <file>", FLAG_HELP.envFile, collect, []);
    if (f === "set") cmd.option("--set <KEY=VALUE>", FLAG_HELP.inputSet, collect, []);
    if (f === "instance") cmd.option("--instance <name>", FLAG_HELP.instance);
    if (f === "strict") cmd.option("--strict", FLAG_HELP.strict);
    if (f === "approve") cmd.option("--auto-approve", FLAG_HELP.autoApprove).option("--yes", FLAG_HELP.yes);
    if (f === "purge") cmd.option("--purge", "also remove the instance's state");
    if (f === "breakLock") cmd.option("--break-lock", FLAG_HELP.breakLock);
    if (f === "noCheck") cmd.option("--no-check", "do not run the profile's statusScript");
    if (f === "showSensitive") cmd.option("--show-sensitive", "print sensitive outputs in clear");
    if (f === "addons") {
      cmd
        .option(
          "--with-addons",
          "first uninstall the add-ons Core installed on the instance's cluster (Infra checks the two exclude each other)",
        )
        .option("--forget-addons", "drop Core's records of the add-ons on the instance's cluster (they go with the cluster)");
    }
  }
  return cmd;
}

/** The Infra options a profile verb was given (each verb declares only its own; the others are undefined). */
function passThrough(o: Record<string, unknown>): ProfilePassThrough & { infraBin?: string | undefined } {
  return {
    envFile: o.envFile as string[] | undefined,
    set: o.set as string[] | undefined,
    instance: o.instance as string | undefined,
    infraBin: o.infraBin as string | undefined,
    strict: o.strict as boolean | undefined,
    autoApprove: o.autoApprove as boolean | undefined,
    yes: o.yes as boolean | undefined,
    purge: o.purge as boolean | undefined,
    breakLock: o.breakLock as boolean | undefined,
    check: o.check as boolean | undefined,
    showSensitive: o.showSensitive as boolean | undefined,
    withAddons: o.withAddons as boolean | undefined,
    forgetAddons: o.forgetAddons as boolean | undefined,
  };
}

export function registerProfile(program: Command): void {
  const profile = program.command("profile").description("find, inspect and run profiles through productive-k3s-infra");
  profile.addHelpText("after", "\nExample:\n  pk3s profile plan aws-single-node-basic --env-file ./aws.env --instance lab\n");
  registerShowPull(profile, "profile");
  registerContents(profile, "profile");
  for (const [action, verb] of Object.entries(PROFILE_VERBS) as [ProfileAction, (typeof PROFILE_VERBS)[ProfileAction]][]) {
    const cmd = withFetchOptions(
      profile.command(`${action} <spec> [runtimeArgs...]`).description(`${verb.description} (arguments after -- go to Infra)`),
    ).option("--infra-bin <path>", "productive-k3s-infra to run");
    addProfileFlags(cmd, verb.flags)
      .addHelpText("after", `\nExample:\n  ${verb.example}\n`)
      .action(async (spec: string, extra: string[], o: FetchOptionValues & Record<string, unknown>) => {
        const { runProfileAction } = await import("../operations/runtime-actions.js");
        const r = await runProfileAction({ ...o, ...passThrough(o), action, spec, json: o.json === true, extra });
        propagateExit(r.exitCode);
      });
  }
  registerInstanceVerbs(profile);
}

/**
 * `pk3s profile status|destroy|outputs [instance]` and `pk3s profile list`:
 * by instance name, straight to productive-k3s-infra (no catalog is read).
 */
const INSTANCE_VERBS: Record<InstanceAction, { description: string; flags: ProfileFlag[]; example: string }> = {
  status: {
    description: "show the stored state of an instance",
    flags: ["noCheck"],
    example: "pk3s profile status local-lab",
  },
  outputs: {
    description: "print an instance's outputs (sensitive ones masked)",
    flags: ["showSensitive"],
    example: "pk3s profile outputs local-lab --json",
  },
  destroy: {
    description: "tear down what an instance provisioned (with the package it was installed from)",
    flags: ["envFile", "set", "approve", "purge", "breakLock", "addons"],
    example: "pk3s profile destroy local-lab --with-addons --auto-approve",
  },
};

function registerInstanceVerbs(profile: Command): void {
  for (const [action, verb] of Object.entries(INSTANCE_VERBS) as [InstanceAction, (typeof INSTANCE_VERBS)[InstanceAction]][]) {
    const cmd = withJson(
      profile
        .command(`${action} [instance] [runtimeArgs...]`)
        .description(`${verb.description}; no catalog needed (arguments after -- go to Infra)`)
        .option(
          "--instance <name>",
          "productive-k3s-infra instance name, instead of the argument (with both, the argument is the profile it must come from)",
        )
        .option("--infra-bin <path>", "productive-k3s-infra to run"),
    );
    addProfileFlags(cmd, verb.flags)
      .addHelpText("after", `\nExample:\n  ${verb.example}\n`)
      .action(async (name: string | undefined, extra: string[], o: Record<string, unknown>) => {
        const { runInstanceAction } = await import("../operations/instance-actions.js");
        const r = await runInstanceAction({ ...passThrough(o), action, name, json: o.json === true, extra });
        propagateExit(r.exitCode);
      });
  }

  withJson(
    profile
      .command("list [runtimeArgs...]")
      .description("list the instances productive-k3s-infra keeps (arguments after -- go to Infra)")
      .option("--infra-bin <path>", "productive-k3s-infra to run"),
  )
    .addHelpText("after", "\nExample:\n  pk3s profile list --json\n")
    .action(async (extra: string[], o: { json?: boolean; infraBin?: string }) => {
      const { listInstances } = await import("../operations/instance-actions.js");
      const r = await listInstances({ json: o.json === true, infraBin: o.infraBin, extra });
      propagateExit(r.exitCode);
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Everyday add-on verbs on a cluster: list, status, uninstall (Core, no catalog) and upgrade (resolved like install).
// ---------------------------------------------------------------------------------------------------------------

type UninstallFlags = { force?: boolean; timeout?: string; breakLock?: boolean; allowHostChanges?: boolean; backup?: boolean };

function registerAddonClusterVerbs(addon: Command): void {
  withJson(
    addClusterFlags(addon.command("list [runtimeArgs...]").description("list the add-ons installed on the cluster (Core's records)")),
  )
    .addHelpText("after", "\nExample:\n  pk3s addon list --instance local-lab\n")
    .action(async (extra: string[], o: ClusterFlags) => {
      const { runAddonAction } = await import("../operations/addon-actions.js");
      propagateExit((await runAddonAction({ ...o, action: "list", json: o.json === true, extra })).exitCode);
    });

  withJson(
    addClusterFlags(addon.command("status <name> [runtimeArgs...]").description("an add-on's install record and its Helm release status")),
  )
    .addHelpText("after", "\nExample:\n  pk3s addon status longhorn --kubeconfig ~/.kube/config\n")
    .action(async (name: string, extra: string[], o: ClusterFlags) => {
      const { runAddonAction } = await import("../operations/addon-actions.js");
      propagateExit((await runAddonAction({ ...o, action: "status", name, json: o.json === true, extra })).exitCode);
    });

  withJson(
    addClusterFlags(
      addon
        .command("uninstall <name> [runtimeArgs...]")
        .description("uninstall an add-on with the package Core kept: hooks, clean script, helm uninstall (no catalog needed)"),
    )
      .option("--force", "uninstall even if other installed add-ons depend on it, and carry on past failing steps")
      .option("--timeout <duration>", FLAG_HELP.timeout, durationOption)
      .option("--break-lock", FLAG_HELP.breakLock)
      .option("--allow-host-changes", HOST_CHANGES_HELP)
      .option("--no-backup", "Core does not back the add-on up before uninstalling it"),
  )
    .addHelpText("after", "\nExample:\n  pk3s addon uninstall longhorn --context prod\n")
    .action(async (name: string, extra: string[], o: ClusterFlags & UninstallFlags) => {
      const { runAddonAction } = await import("../operations/addon-actions.js");
      propagateExit((await runAddonAction({ ...o, action: "uninstall", name, json: o.json === true, extra })).exitCode);
    });

  addInstallFlags(
    withFetchOptions(
      addon
        .command("upgrade <spec>")
        .description("resolve a newer version (and its dependencies) from the catalogs, verify it and upgrade the installed add-on"),
    ),
    "upgrade even if that version is installed with the same package and values",
  )
    .addHelpText("after", "\nExample:\n  pk3s addon upgrade longhorn@^1.3 --context prod -f values.yaml\n")
    .action(async (spec: string, o: FetchOptionValues & AddonInstallFlags) => {
      const { installAddon, renderInstall } = await import("../operations/addon-install.js");
      const r = await installAddon({ ...o, mode: "upgrade", spec, dryRun: o.dryRun === true, json: o.json === true });
      emit(o, r, () => renderInstall(r));
      propagateExit(r.exitCode);
    });
}
