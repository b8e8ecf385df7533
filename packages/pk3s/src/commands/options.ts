/** Options shared by the commands that read catalogs and download packages. */
import { FLAG_HELP } from "@productive-k3s/pkg-format/cli";
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

export function withFetchOptions(cmd: Command): Command {
  return withJson(cmd)
    .option("--offline", "never touch the network: use cached catalogs and packages only")
    .option("--allow-unverified", "accept a catalog entry without a digest (prints a warning)")
    .option("--include-prerelease", "let ranges match prerelease versions")
    .option("--require-signatures", FLAG_REQUIRE_SIGNATURES);
}

/** The exit code of a delegated runtime becomes ours, after the result is printed. */
export function propagateExit(code: number): void {
  if (code !== 0) process.exitCode = code;
}
