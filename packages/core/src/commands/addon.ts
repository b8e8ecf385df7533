import { collect, durationOption, emit, FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import { Command } from "commander";
import { addLifecycleCommands } from "./addon-lifecycle.js";
import { addInstallOptions, addKubeOptions, HOST_CHANGES_HELP, type InstallFlags, installOptionsFrom, type KubeFlags } from "./options.js";

type UninstallFlags = { force?: boolean; timeout: string; breakLock?: boolean; allowHostChanges?: boolean; backup?: boolean };

function installLike(mode: "install" | "upgrade"): Command {
  const verb = mode === "install" ? "Install" : "Upgrade";
  const cmd = new Command(mode)
    .description(
      mode === "install"
        ? "Install an addon.tgz on a cluster (an installed older/newer version is upgraded; same version and package: no-op)"
        : "Upgrade an installed add-on to the given addon.tgz",
    )
    .requiredOption("--tgz <file>", "the addon.tgz package");
  addInstallOptions(cmd)
    .addHelpText(
      "after",
      `\nExample:\n  productive-k3s-core addon ${mode} --tgz ./longhorn-1.0.0.tgz --kubeconfig /etc/rancher/k3s/k3s.yaml -f my-values.yaml${
        mode === "install" ? " --dry-run" : ""
      }\n${
        mode === "install"
          ? "\nWith its dependency, in one run (the values apply to longhorn only):\n" +
            "  productive-k3s-core addon install --dependency-tgz ./cert-manager-1.2.0.tgz --tgz ./longhorn-1.0.0.tgz -f my-values.yaml\n"
          : ""
      }`,
    )
    .action(async (flags: InstallFlags & { tgz: string }) => {
      const { installAddon } = await import("../operations/install.js");
      const result = await installAddon({ ...installOptionsFrom(flags), tgz: flags.tgz, mode });
      const { renderInstall } = await import("./render.js");
      emit(flags, result, () => renderInstall(result));
    });
  cmd.summary(`${verb} an add-on package on a cluster`);
  return cmd;
}

export function addonCommand(): Command {
  const addon = new Command("addon").description("Install and manage add-on packages (addon.tgz) on a cluster");
  addon.addHelpText("after", "\nExample:\n  productive-k3s-core addon install --tgz ./longhorn-1.0.0.tgz\n");

  addon
    .command("validate")
    .description("Validate an addon.tgz: integrity, manifest, referenced files")
    .requiredOption("--tgz <file>", "the addon.tgz package")
    .option("--strict", FLAG_HELP.strict)
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", "\nExample:\n  productive-k3s-core addon validate --tgz ./longhorn-1.0.0.tgz --strict\n")
    .action(async (flags: { tgz: string; strict?: boolean; json?: boolean }) => {
      const { validatePackage } = await import("../operations/validate-package.js");
      const result = await validatePackage(flags.tgz, flags.strict === true);
      const { renderValidate } = await import("./render.js");
      emit(flags, result, () => renderValidate(result));
    });

  addon.addCommand(installLike("install"));
  addon.addCommand(installLike("upgrade"));

  addKubeOptions(
    addon
      .command("uninstall")
      .description("Uninstall an add-on: preUninstall hook, clean script, helm uninstall, postUninstall hook (from the kept package)")
      .argument("<name>", "add-on name"),
  )
    .option("--force", "uninstall even if other installed add-ons depend on it, and carry on past failing steps")
    .option("--timeout <duration>", FLAG_HELP.timeout, durationOption, "10m")
    .option("--break-lock", FLAG_HELP.breakLock)
    .option("--allow-host-changes", HOST_CHANGES_HELP)
    .option("--no-backup", "do not back the add-on up first")
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", "\nExample:\n  productive-k3s-core addon uninstall longhorn --kubeconfig /etc/rancher/k3s/k3s.yaml\n")
    .action(async (name: string, flags: KubeFlags & UninstallFlags) => {
      const { uninstallAddon } = await import("../operations/uninstall.js");
      const result = await uninstallAddon({ ...flags, name, noBackup: flags.backup === false });
      const { renderUninstall } = await import("./render.js");
      emit(flags, result, () => renderUninstall(result));
    });

  addKubeOptions(
    addon.command("status").description("Show an add-on's install record and its Helm release status").argument("<name>", "add-on name"),
  )
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", "\nExample:\n  productive-k3s-core addon status longhorn --json\n")
    .action(async (name: string, flags: KubeFlags) => {
      const { addonStatus } = await import("../operations/status.js");
      const result = await addonStatus({ ...flags, name });
      const { renderStatus } = await import("./render.js");
      emit(flags, result, () => renderStatus(result));
    });

  addKubeOptions(addon.command("list").description("List the add-ons installed on the cluster"))
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", "\nExample:\n  productive-k3s-core addon list --context edge-admin\n")
    .action(async (flags: KubeFlags) => {
      const { listAddons } = await import("../operations/status.js");
      const result = await listAddons(flags);
      const { renderList } = await import("./render.js");
      emit(flags, result, () => renderList(result));
    });

  // The installed add-on's lifecycle: backup, backups, history, rollback, validate-installed (test).
  addLifecycleCommands(addon);
  addon.addCommand(templateCommand());
  addForgetCommand(addon);
  return addon;
}

/* --- addon template (issue 13): the manifests install would apply ------------------------------- */

interface TemplateFlags {
  tgz: string;
  values?: string[];
  set?: string[];
  namespace?: string;
  releaseName?: string;
  kubeVersion?: string;
  strict?: boolean;
  json?: boolean;
}

function templateCommand(): Command {
  return new Command("template")
    .description(
      "Print the manifests `addon install` would apply: helm template of the package's chart with install's values, in install's order",
    )
    .requiredOption("--tgz <file>", "the addon.tgz package")
    .option("-f, --values <file>", "extra Helm values file, after the package's own (repeatable)", collect)
    .option("--set <key=value>", "Helm --set value, after all values files (repeatable)", collect)
    .option("-n, --namespace <ns>", "namespace (default: spec.chart.namespace, then the add-on name)")
    .option("--release-name <name>", "release name (default: spec.chart.releaseName, then the add-on name)")
    .option("--kube-version <version>", "Kubernetes version the chart sees as .Capabilities.KubeVersion (default: helm's)")
    .option("--strict", FLAG_HELP.strict)
    .option("--json", FLAG_HELP.json)
    .addHelpText(
      "after",
      "\nExample:\n  productive-k3s-core addon template --tgz ./longhorn-1.0.0.tgz -f my-values.yaml --set replicas=2 > longhorn.yaml\n",
    )
    .action(async (flags: TemplateFlags) => {
      const { templateAddon } = await import("../operations/template.js");
      const result = await templateAddon({
        tgz: flags.tgz,
        values: flags.values,
        sets: flags.set,
        namespace: flags.namespace,
        releaseName: flags.releaseName,
        kubeVersion: flags.kubeVersion,
        strict: flags.strict,
      });
      const { renderTemplate } = await import("./render.js");
      emit(flags, result, () => renderTemplate(result));
    });
}

/** `addon forget`: drop an install record without touching the cluster (Infra's `profile destroy --forget-addons`). */
function addForgetCommand(addon: Command): void {
  addKubeOptions(
    addon
      .command("forget")
      .description("Drop Core's record of an add-on without touching the cluster (for a cluster that is going away)")
      .argument("<name>", "add-on name"),
  )
    .option("--break-lock", FLAG_HELP.breakLock)
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", "\nExample:\n  productive-k3s-core addon forget longhorn --kubeconfig ./lab/kubeconfig.yaml\n")
    .action(async (name: string, flags: KubeFlags & { breakLock?: boolean }) => {
      const { forgetAddon } = await import("../operations/forget.js");
      const result = await forgetAddon({ ...flags, name });
      emit(
        flags,
        result,
        () =>
          `forgot ${result.name} ${result.version} on cluster ${result.cluster.server}: its record was dropped; nothing on the cluster was changed`,
      );
    });
}
