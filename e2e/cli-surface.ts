/**
 * The command trees of the three CLIs, walked from each buildProgram() (the
 * built dist), for the consistency and JSON-output suites.
 */
import { buildProgram as coreProgram } from "../packages/core/dist/program.js";
import { buildProgram as infraProgram } from "../packages/infra/dist/program.js";
import { buildProgram as pk3sProgram } from "../packages/pk3s/dist/program.js";
import type { BIN } from "./helpers.js";

export type Program = ReturnType<typeof pk3sProgram>;
export type Cli = keyof typeof BIN;

export interface CommandEntry {
  cli: Cli;
  /** The binary's name: pk3s, productive-k3s-core, productive-k3s-infra. */
  binName: string;
  /** Subcommand names below the program ([] for the program itself). */
  path: string[];
  /** `pk3s addon install` */
  label: string;
  cmd: Program;
  /** Runs something itself (a leaf, or a program root with its own action), as opposed to a group. */
  runnable: boolean;
}

export function commandEntries(): CommandEntry[] {
  const out: CommandEntry[] = [];
  const programs: [Cli, Program][] = [
    ["pk3s", pk3sProgram()],
    ["core", coreProgram()],
    ["infra", infraProgram()],
  ];
  for (const [cli, program] of programs) {
    const walk = (cmd: Program, path: string[]): void => {
      out.push({
        cli,
        binName: program.name(),
        path,
        label: [program.name(), ...path].join(" "),
        cmd,
        runnable: cmd.commands.length === 0 || path.length === 0,
      });
      for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
    };
    walk(program, []);
  }
  return out;
}
