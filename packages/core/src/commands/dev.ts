import { emit, FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import { Command } from "commander";
import { addInstallOptions, type InstallFlags, installOptionsFrom } from "./options.js";

interface AuthoringFlags {
  strict?: boolean;
  requireHelm?: boolean;
  plainHttp?: boolean;
}

const REQUIRE_HELM_HELP = "fail (exit 5) when helm is missing, instead of skipping the chart checks with a warning";
const PLAIN_HTTP_HELP = "pull a remote chart (spec.chart.ref) from an OCI registry over plain HTTP (helm --plain-http)";

export function devCommand(): Command {
  const dev = new Command("dev").description("Development surface: work from an add-on source directory (not part of the public contract)");
  dev.addHelpText("after", "\nExample:\n  productive-k3s-core dev addon validate --source ./addons/longhorn\n");
  const addon = dev.command("addon").description("Validate, install or package an add-on source directory");
  addon.addHelpText("after", "\nExample:\n  productive-k3s-core dev addon package --source ./addons/longhorn --out ./dist\n");

  addon
    .command("validate")
    .description("Validate an add-on source directory")
    .requiredOption("--source <dir>", "add-on source directory (addon.yaml at its root)")
    .option("--strict", FLAG_HELP.strict)
    .option("--require-helm", REQUIRE_HELM_HELP)
    .option("--plain-http", PLAIN_HTTP_HELP)
    .option("--json", FLAG_HELP.json)
    .addHelpText("after", "\nExample:\n  productive-k3s-core dev addon validate --source ./addons/longhorn --require-helm\n")
    .action(async (flags: { source: string; json?: boolean } & AuthoringFlags) => {
      const { validateSource } = await import("../operations/validate.js");
      const result = await validateSource(flags.source, flags);
      const { renderValidate } = await import("./render.js");
      emit(flags, result, () => renderValidate(result));
    });

  addInstallOptions(
    addon
      .command("install")
      .description("Pack the source and install the package exactly like `addon install --tgz`")
      .requiredOption("--source <dir>", "add-on source directory")
      .option("--plain-http", PLAIN_HTTP_HELP),
  )
    .addHelpText(
      "after",
      "\nExample:\n  productive-k3s-core dev addon install --source ./addons/longhorn --kubeconfig ~/.kube/config --dry-run\n",
    )
    .action(async (flags: InstallFlags & { source: string; plainHttp?: boolean }) => {
      const { installSource } = await import("../operations/validate.js");
      const result = await installSource(flags.source, { ...installOptionsFrom(flags), mode: "install", plainHttp: flags.plainHttp });
      const { renderInstall } = await import("./render.js");
      emit(flags, result, () => renderInstall(result));
    });

  addon
    .command("package")
    .description(
      "Pack an add-on source into <out>/<name>-<version>.tgz (deterministic), after helm lint and helm template of its chart; " +
        "a remote chart (spec.chart.ref/repo) is pulled, checked against spec.chart.digest and embedded; prints name, version, digest, size",
    )
    .requiredOption("--source <dir>", "add-on source directory")
    .requiredOption("--out <dir>", "output directory")
    .option("--strict", FLAG_HELP.strict)
    .option("--require-helm", REQUIRE_HELM_HELP)
    .option("--plain-http", PLAIN_HTTP_HELP)
    .option("--json", FLAG_HELP.json)
    .addHelpText(
      "after",
      "\nExample:\n  productive-k3s-core dev addon package --source ./addons/longhorn --out ./dist\n" +
        "  productive-k3s-core dev addon package --source ./addons/podinfo --out ./dist --plain-http\n",
    )
    .action(async (flags: { source: string; out: string; json?: boolean } & AuthoringFlags) => {
      const { packageSource } = await import("../operations/validate.js");
      const result = await packageSource(flags.source, flags.out, flags);
      const { renderPackage } = await import("./render.js");
      emit(flags, result, () => renderPackage(result));
    });
  return dev;
}
