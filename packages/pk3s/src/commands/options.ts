/** Options shared by the commands that read catalogs and download packages. */
import { FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import type { Command } from "commander";

export interface FetchOptionValues {
  json?: boolean;
  offline?: boolean;
  allowUnverified?: boolean;
  includePrerelease?: boolean;
}

export function withJson(cmd: Command): Command {
  return cmd.option("--json", FLAG_HELP.json);
}

export function withFetchOptions(cmd: Command): Command {
  return withJson(cmd)
    .option("--offline", "never touch the network: use cached catalogs and packages only")
    .option("--allow-unverified", "accept a catalog entry without a digest (prints a warning)")
    .option("--include-prerelease", "let ranges match prerelease versions");
}

/** The exit code of a delegated runtime becomes ours, after the result is printed. */
export function propagateExit(code: number): void {
  if (code !== 0) process.exitCode = code;
}

/** `--ca-file` / `--plain-http` for commands that may reach an OCI registry. */
export function withRegistryOptions(cmd: Command): Command {
  return cmd
    .option("--ca-file <pem>", "OCI registries: trust this CA certificate (PEM) too")
    .option("--plain-http", "OCI registries: plain HTTP instead of HTTPS (loopback registries fall back to it by themselves)");
}
