import { registerCommands, withPackageSignatureCheck, withRootOptions } from "@productive-k3s/pkg-format/cli";
import { useStateBackendOption } from "@productive-k3s/pkg-format/state-selection";
import { packageVersion } from "@productive-k3s/pkg-format/version";
import { Command } from "commander";
import { addonCommand } from "./commands/addon.js";
import { devCommand } from "./commands/dev.js";

/** The program; with `args` (the command line after the script), only the commands it needs (registerCommands). */
export function buildProgram(args?: readonly string[]): Command {
  const program = withRootOptions(
    new Command("productive-k3s-core").description("Productive K3S add-on runtime: installs addon.tgz packages onto a cluster"),
    packageVersion(import.meta.url),
  ).addHelpText("after", "\nExample:\n  productive-k3s-core addon install --tgz ./longhorn-1.0.0.tgz --kubeconfig ~/.kube/config\n");
  useStateBackendOption(program);
  registerCommands(
    program,
    [
      { names: ["addon"], register: (p) => p.addCommand(addonCommand()) },
      { names: ["dev"], register: (p) => p.addCommand(devCommand()) },
    ],
    args,
  );
  return withPackageSignatureCheck(program);
}
