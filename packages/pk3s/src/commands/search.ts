import { emit } from "@productive-k3s/pkg-format/cli";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import type { Command } from "commander";
import { FLAG_REQUIRE_SIGNATURES, withJson } from "./options.js";

export function registerSearch(program: Command): void {
  withJson(
    program
      .command("search [term]")
      .description("search the catalogs by name, description or category")
      .option("--type <type>", "addon, profile or stack")
      .option("--offline", "never touch the network: use cached catalogs only")
      .option("--require-signatures", FLAG_REQUIRE_SIGNATURES),
  )
    .addHelpText("after", "\nExample:\n  pk3s search storage --type addon\n")
    .action(async (term: string | undefined, o: { json?: boolean; type?: string; offline?: boolean; requireSignatures?: boolean }) => {
      if (o.type !== undefined && o.type !== "addon" && o.type !== "profile" && o.type !== "stack")
        throw new UsageError(`--type must be addon, profile or stack, got "${o.type}"`, {
          where: "--type",
          hint: "use --type addon, --type profile or --type stack",
        });
      const { search, renderSearch } = await import("../operations/search.js");
      const r = await search(term, {
        type: o.type as "addon" | "profile" | "stack" | undefined,
        offline: o.offline,
        requireSignatures: o.requireSignatures,
      });
      emit(o, { ok: true, ...r }, () => renderSearch(r.results));
    });
}
