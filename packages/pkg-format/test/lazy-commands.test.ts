import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { type CommandEntry, commandsNeeded, registerCommands } from "../src/cli/lazy-commands.js";

const root = (): Command =>
  new Command("x")
    .option("-V, --version", "v")
    .option("--json", "j")
    .option("--bin <path>", "required value")
    .option("--color [when]", "optional value");
const entries: CommandEntry[] = [
  { names: ["alpha", "a"], register: (p) => p.command("alpha").alias("a").command("leaf") },
  { names: ["beta"], register: (p) => p.command("beta") },
  { names: ["completion"], register: (p) => p.command("completion"), wholeTree: true },
];
const needed = (args: string[]): string[] | undefined => commandsNeeded(root(), entries, args)?.map((e) => e.names[0] ?? "");

describe("commandsNeeded: the top-level commands a command line names", () => {
  it("finds the named command (or alias) after root options, their values included", () => {
    expect(needed(["beta"])).toEqual(["beta"]);
    expect(needed(["a", "leaf", "--help"])).toEqual(["alpha"]);
    expect(needed(["--json", "--bin", "beta", "alpha"])).toEqual(["alpha"]); // --bin takes "beta" as its value
    expect(needed(["--bin=/x", "beta"])).toEqual(["beta"]);
    expect(needed(["--color", "always", "beta"])).toEqual(["beta"]);
    expect(needed(["--color", "--json", "beta"])).toEqual(["beta"]); // an optional value never starts with -
  });

  it("a plain --version needs none; anything else needs all", () => {
    expect(needed(["--version"])).toEqual([]);
    expect(needed(["-V", "--json"])).toEqual([]);
    for (const args of [
      [],
      ["--json"],
      ["--help"],
      ["-h"],
      ["-V", "-h"],
      ["gamma"],
      ["--nope", "beta"],
      ["--", "beta"],
      ["-Vj"],
      ["completion", "bash"],
    ]) {
      expect(needed(args), args.join(" ")).toBeUndefined();
    }
  });

  it("registerCommands without a command line registers every entry", () => {
    expect(registerCommands(root(), entries).commands.map((c) => c.name())).toEqual(["alpha", "beta", "completion"]);
    expect(registerCommands(root(), entries, ["beta", "--json"]).commands.map((c) => c.name())).toEqual(["beta"]);
  });
});
