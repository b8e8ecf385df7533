/**
 * Building only the part of a command tree a command line needs (issue 19, start-up).
 *
 * commander objects are cheap one by one, but the three binaries hold ~60 commands and ~420 options, and
 * building them all costs a few milliseconds of every start. A command line names at most one top-level
 * command, so only that command's subtree is built; nothing below the root for a plain `--version`; the whole
 * tree whenever the line is anything else (root help, `help <cmd>`, an unknown command and its did-you-mean,
 * an option the scan below does not know, and commands that read the whole tree such as `pk3s completion`).
 * Help output is the same either way: a command's help shows its own subtree and its parents' names only.
 */
import type { Command } from "commander";

/** One registration function and the top-level commands (names and aliases) it adds. */
export interface CommandEntry {
  names: readonly string[];
  register: (program: Command) => void;
  /** The command reads the whole tree (completion scripts): naming it builds everything. */
  wholeTree?: boolean;
}

/**
 * The top-level entries `args` (the arguments after the script) needs: `[entry]` when it names one,
 * `[]` for a plain `--version`/`-V`, `undefined` for "build everything".
 * Root options are skipped the way commander parses them: `--flag=value`, a required value always takes the
 * next argument, an optional one takes it unless it starts with `-`. Anything unexpected means everything.
 */
export function commandsNeeded(program: Command, entries: readonly CommandEntry[], args: readonly string[]): CommandEntry[] | undefined {
  let version = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--" || arg === "-") return undefined;
    if (!arg.startsWith("-")) {
      const entry = entries.find((e) => e.names.includes(arg));
      return entry === undefined || entry.wholeTree === true ? undefined : [entry];
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const option = program.options.find((o) => o.long === flag || o.short === flag);
    if (option === undefined) return undefined; // help flags, unknown or combined options: commander decides
    if (option.long === "--version") version = true;
    if (eq === -1 && option.required) i++;
    else if (eq === -1 && option.optional && !(args[i + 1] ?? "-").startsWith("-")) i++;
  }
  return version ? [] : undefined;
}

/**
 * Register the entries the command line `args` needs (see commandsNeeded), in their order; every entry without
 * `args` (a program built to be inspected, as the tests and the completion generator do).
 */
export function registerCommands(program: Command, entries: readonly CommandEntry[], args?: readonly string[]): Command {
  const needed = args === undefined ? undefined : commandsNeeded(program, entries, args);
  for (const entry of needed ?? entries) entry.register(program);
  return program;
}
