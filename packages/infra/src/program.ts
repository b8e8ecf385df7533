import { registerCommands, withPackageSignatureCheck, withRootOptions } from "@productive-k3s/pkg-format/cli";
import { useStateBackendOption } from "@productive-k3s/pkg-format/state-selection";
import { packageVersion } from "@productive-k3s/pkg-format/version";
import { Command } from "commander";
import { registerDevCommands } from "./commands/dev.js";
import { registerProfileCommands } from "./commands/profile.js";

/** The program; with `args` (the command line after the script), only the commands it needs (registerCommands). */
export function buildProgram(args?: readonly string[]): Command {
  const program = withRootOptions(
    new Command("productive-k3s-infra").description(
      "Productive K3S profile runtime: executes profile.tgz packages with OpenTofu, Ansible or scripts",
    ),
    packageVersion(import.meta.url),
  ).addHelpText("after", "\nExample:\n  productive-k3s-infra profile install --tgz ./local-lab-1.0.0.tgz --env-file ./local.env\n");
  useStateBackendOption(program);
  registerCommands(
    program,
    [
      { names: ["profile"], register: registerProfileCommands },
      { names: ["dev"], register: registerDevCommands },
    ],
    args,
  );
  return withPackageSignatureCheck(program);
}
