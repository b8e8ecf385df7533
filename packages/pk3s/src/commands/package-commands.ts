/** `pk3s addon ...` and `pk3s profile ...`: show, pull and the delegating verbs. */
import { collect, durationOption, emit, FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { Command } from "commander";
import type { ProfileAction } from "../operations/runtime-actions.js";
import { type FetchOptionValues, propagateExit, withFetchOptions } from "./options.js";

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
      const { show, renderDetails } = await import("../operations/discovery.js");
      const r = await show(spec, {
        type: kind,
        offline: o.offline,
        includePrerelease: o.includePrerelease,
        requireSignatures: o.requireSignatures,
      });
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

  withFetchOptions(
    addon
      .command("install <spec>")
      .description("resolve dependencies, verify every package, then install them in order through productive-k3s-core")
      .option("--kubeconfig <file>", FLAG_HELP.kubeconfig)
      .option("--context <name>", FLAG_HELP.context)
      .option("--instance <name>", "productive-k3s-infra instance whose kubeconfig output is the target cluster (instead of --kubeconfig)")
      .option("-f, --values <file>", "values file for the requested add-on (repeatable)", collect, [])
      .option("--set <key=value>", "value override for the requested add-on (repeatable)", collect, [])
      .option("-n, --namespace <ns>", "namespace for the requested add-on (Core's default: the package's)")
      .option("--timeout <duration>", FLAG_HELP.timeout, durationOption)
      .option("--force", "reinstall the requested add-on even if that version is installed")
      .option("--break-lock", FLAG_HELP.breakLock)
      .option("--dry-run", "change nothing: print the plan and ask Core for a dry run")
      .option("--core-bin <path>", "productive-k3s-core to run")
      .option("--infra-bin <path>", "productive-k3s-infra to run (for --instance)"),
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
}

type ProfileFlag = "envFile" | "set" | "instance" | "strict" | "approve" | "purge" | "breakLock" | "noCheck";

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
  status: {
    description: "show the stored state of the instance",
    flags: ["instance", "noCheck"],
    example: "pk3s profile status local-lab --instance lab",
  },
  destroy: {
    description: "tear down what the profile provisioned",
    flags: ["envFile", "set", "instance", "approve", "purge", "breakLock"],
    example: "pk3s profile destroy local-lab --instance lab --auto-approve",
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
  }
  return cmd;
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
        const r = await runProfileAction({
          ...o,
          action,
          spec,
          json: o.json === true,
          extra,
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
        });
        propagateExit(r.exitCode);
      });
  }
}
