/**
 * Issue 19, start-up: each binary builds only the commands its command line names (pkg-format
 * registerCommands). Every command's help is the same as in the whole tree, a named command's subtree is
 * built alone, a plain --version builds no command, and anything else builds the whole tree.
 */
import { describe, expect, it } from "vitest";
import { buildProgram as coreProgram } from "../packages/core/dist/program.js";
import { buildProgram as infraProgram } from "../packages/infra/dist/program.js";
import { buildProgram as pk3sProgram } from "../packages/pk3s/dist/program.js";
import { type Cli, commandEntries, type Program } from "./cli-surface.js";

const BUILD: Record<Cli, (args?: readonly string[]) => Program> = { pk3s: pk3sProgram, core: coreProgram, infra: infraProgram };
const topLevel = (p: Program): string[] => p.commands.map((c) => c.name());
const find = (root: Program, path: readonly string[]): Program | undefined =>
  path.reduce<Program | undefined>((cmd, name) => cmd?.commands.find((c) => c.name() === name), root);

describe("a command line builds only the commands it names", () => {
  const entries = commandEntries();

  it("every command's --help text is the same as in the whole tree", () => {
    expect(entries.length).toBeGreaterThan(60);
    for (const e of entries) {
      const lazy = BUILD[e.cli]([...e.path, "--help"]);
      const cmd = find(lazy, e.path);
      expect(cmd, e.label).toBeDefined();
      expect(cmd?.helpInformation(), e.label).toBe(e.cmd.helpInformation());
      // Below the root, only the registration that adds the named command was built (pk3s's signing
      // registration adds key, sign and verify).
      // `pk3s completion` reads the whole tree, so it builds all of it.
      const [first] = e.path;
      if (first !== undefined && first !== "completion") {
        expect(topLevel(lazy), e.label).toContain(first);
        expect(topLevel(lazy).length, e.label).toBeLessThanOrEqual(["key", "sign", "verify"].includes(first) ? 3 : 1);
      }
    }
  });

  it("aliases and root options before the command name still find it", () => {
    expect(topLevel(pk3sProgram(["--core-bin", "/x/core.js", "search", "longhorn"]))).toEqual(["search"]);
    expect(topLevel(pk3sProgram(["--infra-bin=/x/infra.js", "--json", "catalog", "list"]))).toEqual(["catalog"]);
    expect(topLevel(pk3sProgram(["verify", "--help"]))).toEqual(["key", "sign", "verify"]); // one registration adds all three
    expect(topLevel(coreProgram(["--json", "dev", "addon", "package"]))).toEqual(["dev"]);
  });

  it("a plain --version builds no command; help, unknown words and completion build all of them", () => {
    for (const cli of ["pk3s", "core", "infra"] as const) {
      const whole = topLevel(BUILD[cli]());
      expect(topLevel(BUILD[cli](["--version"])), cli).toEqual([]);
      expect(topLevel(BUILD[cli](["-V", "--json"])), cli).toEqual([]);
      for (const args of [[], ["--help"], ["-V", "--help"], ["help", "addon"], ["adon"], ["--bogus", "addon"], ["--", "addon"]]) {
        expect(topLevel(BUILD[cli](args)), `${cli} ${args.join(" ")}`).toEqual(whole);
      }
    }
    // The completion script is generated from the whole tree.
    expect(topLevel(pk3sProgram(["completion", "bash"]))).toEqual(topLevel(pk3sProgram()));
  });
});
