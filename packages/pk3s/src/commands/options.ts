/** Options shared by the commands that read catalogs and download packages. */
import { FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import type { Command } from "commander";

export interface FetchOptionValues {
  json?: boolean;
  offline?: boolean;
  allowUnverified?: boolean;
  includePrerelease?: boolean;
  requireSignatures?: boolean;
}

export const FLAG_REQUIRE_SIGNATURES =
  "refuse catalogs without trusted keys (also PK3S_REQUIRE_SIGNATURES=1 or `pk3s catalog trust require on`)";

export function withJson(cmd: Command): Command {
  return cmd.option("--json", FLAG_HELP.json);
}

/**
 * The options of every command that resolves a `[catalog/]name[@range]`
 * (its first argument) from the catalogs. `--catalog c` is the same as
 * writing `c/name`: the argument is qualified before the action runs, so
 * every such command gets it the same way.
 */
export function withFetchOptions(cmd: Command): Command {
  return withJson(cmd)
    .option("--catalog <name>", "resolve from this catalog only (the same as <catalog>/<name>)")
    .option("--offline", "never touch the network: use cached catalogs and packages only")
    .option("--allow-unverified", "accept a catalog entry without a digest (prints a warning)")
    .option("--include-prerelease", "let ranges match prerelease versions")
    .option("--require-signatures", FLAG_REQUIRE_SIGNATURES)
    .hook("preAction", async (_program, action) => {
      const catalog = action.opts<{ catalog?: string }>().catalog;
      const [spec] = action.processedArgs as unknown[];
      if (catalog === undefined || typeof spec !== "string") return;
      // Loaded only when the flag is used: the name rules pull in zod, which start-up must not pay for.
      const { assertValidName } = await import("@productive-k3s/pkg-format/names");
      action.processedArgs[0] = qualifySpec(spec, assertValidName("catalog", catalog, "--catalog"));
    });
}

/** `name@range` from catalog `catalog`: `catalog/name@range`; a spec that names another catalog is a usage error. */
export function qualifySpec(spec: string, catalog: string): string {
  const head = spec.split("@", 1)[0] ?? "";
  const slash = head.indexOf("/");
  if (slash === -1) return `${catalog}/${spec}`;
  if (head.slice(0, slash) === catalog) return spec;
  throw new UsageError(`${quoteForTerminal(spec)} names catalog "${head.slice(0, slash)}" but --catalog says "${catalog}"`, {
    where: "--catalog",
    hint: `pass one of them: ${head.slice(slash + 1)} --catalog ${catalog}, or ${spec}`,
  });
}

/** The exit code of a delegated runtime becomes ours, after the result is printed. */
export function propagateExit(code: number): void {
  if (code !== 0) process.exitCode = code;
}
