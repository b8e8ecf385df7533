import { emit, FLAG_HELP, registerCommands, unknownCommandError } from "@productive-k3s/pkg-format/cli";
import { Command } from "commander";
import { registerCatalog } from "./commands/catalog.js";
import { registerCompletion } from "./commands/completion.js";
import { registerAddon, registerProfile } from "./commands/package-commands.js";
import { registerPush } from "./commands/push.js";
import { registerRegistry } from "./commands/registry.js";
import { registerSearch } from "./commands/search.js";
import { registerPack, registerSigning } from "./commands/signing.js";
import { registerLock, registerStack } from "./commands/stack.js";

/** The program; with `args` (the command line after the script), only the commands it needs (registerCommands). */
export function buildProgram(args?: readonly string[]): Command {
  const program = new Command("pk3s")
    .enablePositionalOptions()
    .description("Productive K3S: find, verify and install add-ons, profiles and stacks from catalogs")
    .option("-V, --version", "print the versions of pk3s and of the runtimes it would use")
    .option("--json", FLAG_HELP.json)
    .option("--core-bin <path>", "with --version: productive-k3s-core to report on")
    .option("--infra-bin <path>", "with --version: productive-k3s-infra to report on")
    .addHelpText(
      "after",
      "\nExample:\n  pk3s search longhorn\n  pk3s addon install longhorn --dry-run\n\nEnvironment: PK3S_CONFIG_DIR, PK3S_CACHE_DIR, PK3S_CATALOG_TTL, PK3S_CORE_BIN, PK3S_INFRA_BIN, HTTP_PROXY/HTTPS_PROXY/NO_PROXY\n" +
        "Network limits: PK3S_CONNECT_TIMEOUT (s, 10), PK3S_HTTP_TIMEOUT (idle s, 30), PK3S_HTTP_MIN_RATE (bytes/s, 10k) over\n" +
        "  PK3S_HTTP_RATE_WINDOW (s, 30), PK3S_HTTP_DEADLINE (s, 300, plus the size at the minimum rate), PK3S_HTTP_RETRIES (3)\n",
    )
    .allowExcessArguments()
    .action(async (o: { version?: boolean; json?: boolean; coreBin?: string; infraBin?: string }, cmd: Command) => {
      const [unknown] = cmd.args;
      if (unknown !== undefined) throw unknownCommandError(program, unknown);
      if (o.version !== true) {
        program.help();
        return;
      }
      const { versionInfo, renderVersion } = await import("./operations/version-info.js");
      const v = await versionInfo({ core: o.coreBin, infra: o.infraBin });
      emit(o, { ok: true, ...v }, () => renderVersion(v));
    });
  return registerCommands(
    program,
    [
      { names: ["catalog"], register: registerCatalog },
      { names: ["search"], register: registerSearch },
      { names: ["addon"], register: registerAddon },
      { names: ["profile"], register: registerProfile },
      { names: ["stack"], register: registerStack },
      { names: ["lock"], register: registerLock },
      { names: ["pack"], register: registerPack },
      { names: ["key", "sign", "verify"], register: registerSigning },
      { names: ["push"], register: registerPush },
      { names: ["registry"], register: registerRegistry },
      { names: ["completion"], register: registerCompletion, wholeTree: true },
    ],
    args,
  );
}
