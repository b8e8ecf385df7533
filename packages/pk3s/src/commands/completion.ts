/** `pk3s completion bash|zsh`: print a shell completion script generated from the command tree. */
import { emit } from "@productive-k3s/pkg-format/cli";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { Argument, type Command } from "commander";
import { withJson } from "./options.js";

export function registerCompletion(program: Command): void {
  withJson(
    program
      .command("completion")
      .description("print the shell completion script for bash or zsh (subcommands, options, package names)")
      .addArgument(new Argument("<shell>", "bash or zsh").choices(["bash", "zsh"])),
  )
    .addHelpText(
      "after",
      "\nExample:\n  pk3s completion bash > ~/.local/share/bash-completion/completions/pk3s\n  source <(pk3s completion zsh)\n",
    )
    .action(async (shell: string, o: { json?: boolean }) => {
      // Only this command pays for the completion generator.
      const { completionScript, SHELLS } = await import("../completion/shell-scripts.js");
      const known = SHELLS.find((s) => s === shell);
      if (known === undefined) {
        throw new UsageError(`unsupported shell "${shell}"`, { where: "pk3s completion", hint: `use one of: ${SHELLS.join(", ")}` });
      }
      const script = completionScript(known, program);
      emit(o, { ok: true, shell: known, script }, () => script);
    });
}
