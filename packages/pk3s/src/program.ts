import { packageVersion } from "@productive-k3s/pkg-format/version";
import { Command } from "commander";

export function buildProgram(): Command {
  const program = new Command("pk3s")
    .description("Productive K3S: find, verify and install add-ons and profiles from catalogs")
    .version(packageVersion(import.meta.url, "../package.json"), "-V, --version")
    .addHelpText("after", "\nExample:\n  pk3s search longhorn\n  pk3s addon install longhorn --dry-run\n");
  return program;
}
