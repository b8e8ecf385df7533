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
  caFile?: string;
  plainHttp?: boolean;
}

export const FLAG_REQUIRE_SIGNATURES =
  "refuse catalogs without trusted keys (also PK3S_REQUIRE_SIGNATURES=1 or `pk3s catalog trust require on`)";

export function withJson(cmd: Command): Command {
  return cmd.option("--json", FLAG_HELP.json);
}

/** What addClusterFlags (and withJson) give a command's action. */
export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  instance?: string;
  coreBin?: string;
  infraBin?: string;
  json?: boolean;
}

/** `--kubeconfig`/`--context`/`--instance`: the cluster of an add-on command (Core's flags, plus an Infra instance). */
export function addClusterFlags(cmd: Command): Command {
  return cmd
    .option("--kubeconfig <file>", FLAG_HELP.kubeconfig)
    .option("--context <name>", FLAG_HELP.context)
    .option("--instance <name>", "productive-k3s-infra instance whose kubeconfig output is the target cluster (instead of --kubeconfig)")
    .option("--core-bin <path>", "productive-k3s-core to run")
    .option("--infra-bin <path>", "productive-k3s-infra to run (for --instance)");
}

/** `--allow-host-changes`, forwarded to Core by every command that may run an add-on's scripts on this machine. */
export const HOST_CHANGES_HELP =
  "let add-ons whose spec.impact.host is true change this machine (forwarded to Core; else Core asks on a terminal, or stops with exit 4)";

/**
 * The options of every command that resolves a `[catalog/]name[@range]`
 * (its first argument) from the catalogs. `--catalog c` is the same as
 * writing `c/name`: the argument is qualified before the action runs, so
 * every such command gets it the same way.
 */
export function withFetchOptions(cmd: Command): Command {
  return withRegistryOptions(withJson(cmd))
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
  if (/^oci:\/\//i.test(spec)) {
    throw new UsageError(`--catalog does not apply to an oci:// reference: ${quoteForTerminal(spec)} names its registry itself`, {
      where: "--catalog",
    });
  }
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

/** `--ca-file` / `--plain-http` for commands that may reach an OCI registry. */
export function withRegistryOptions(cmd: Command): Command {
  return cmd
    .option("--ca-file <pem>", "OCI registries: trust this CA certificate (PEM) too")
    .option("--plain-http", "OCI registries: plain HTTP instead of HTTPS (loopback registries fall back to it by themselves)");
}
