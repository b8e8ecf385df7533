import { collect, emit, log } from "@productive-k3s/pkg-format/cli";
import { formatProblem, UsageError } from "@productive-k3s/pkg-format/errors";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { formatColumns } from "@productive-k3s/pkg-format/text-table";
import type { Command } from "commander";
import { withJson, withRegistryOptions } from "./options.js";
import { PASSPHRASE_HELP, SIGN_KEY_HELP } from "./signing.js";

function int(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n)) {
      throw new UsageError(`${flag} expects an integer, got "${value}"`, { where: flag, hint: `pass a whole number, e.g. ${flag} 3` });
    }
    return n;
  };
}

export function registerCatalog(program: Command): void {
  const catalog = program.command("catalog").description("manage catalog sources and publish catalog indexes");
  catalog.addHelpText(
    "after",
    "\nExample:\n  pk3s catalog add internal https://catalog.example.com/ --token-env INTERNAL_CATALOG_TOKEN --priority 10\n",
  );

  withRegistryOptions(
    withJson(
      catalog
        .command("add <name> [url-or-path]")
        .description(
          "add a catalog source (http(s)://, file://, a local path, or an oci:// registry repository); without one, restore a removed built-in catalog",
        )
        .option("--token-env <VAR>", "environment variable holding a bearer token")
        .option("--username <user>", "basic-auth user name")
        .option("--password-env <VAR>", "environment variable holding the basic-auth password")
        .option("--priority <n>", "higher wins when a name is in several catalogs (default 0)", int("--priority"))
        .option(
          "--trust-key <key>",
          "minisign public key (file, or its RW... line) that must sign the index and every package; repeatable",
          collect,
          [],
        )
        .option("--offline", "save it without fetching the index now (by default the index is fetched and checked first)"),
    ),
  )
    .addHelpText(
      "after",
      "\nExample:\n  pk3s catalog add acme https://acme.example.com/catalog/index.yaml --username ci --password-env ACME_PASSWORD\n" +
        "  pk3s catalog add internal https://catalog.example.com/ --trust-key ./internal-release.pub\n" +
        "  pk3s catalog add platform oci://registry.example.com/platform/addons\n" +
        "  pk3s catalog add examples            # restore a built-in catalog you removed\n",
    )
    .action(
      async (
        name: string,
        location: string | undefined,
        o: {
          json?: boolean;
          tokenEnv?: string;
          username?: string;
          passwordEnv?: string;
          priority?: number;
          trustKey: string[];
          offline?: boolean;
          caFile?: string;
          plainHttp?: boolean;
        },
      ) => {
        const { addCatalog } = await import("../operations/catalog-ops.js");
        const r = await addCatalog({
          name,
          location,
          priority: o.priority,
          tokenEnv: o.tokenEnv,
          username: o.username,
          passwordEnv: o.passwordEnv,
          trustKeys: o.trustKey,
          offline: o.offline,
          caFile: o.caFile,
          plainHttp: o.plainHttp,
        });
        emit(o, { ok: true, ...r }, () =>
          terminalLine(
            r.catalog.origin !== "added"
              ? `restored the built-in catalog ${r.catalog.name} (${r.catalog.url})`
              : r.entries === null
                ? `added catalog ${r.catalog.name} (${r.catalog.url}) without fetching it; fetch it with: pk3s catalog update ${r.catalog.name}`
                : `added catalog ${r.catalog.name} (${r.catalog.url}): ${r.entries} entries`,
          ),
        );
      },
    );

  withJson(catalog.command("list").description("list catalog sources, highest priority first"))
    .addHelpText("after", "\nExample:\n  pk3s catalog list --json\n")
    .action(async (o: { json?: boolean }) => {
      const { listCatalogs } = await import("../operations/catalog-ops.js");
      const r = await listCatalogs();
      emit(o, { ok: true, ...r }, () =>
        r.catalogs.length === 0
          ? "no catalogs configured; add one with: pk3s catalog add <name> <url|path>"
          : formatColumns([
              ["NAME", "PRIORITY", "URL", "SIGNED", "FROM"],
              ...r.catalogs.map((c) =>
                [
                  c.name,
                  String(c.priority),
                  c.url,
                  c.signed ? `signed (key ${c.keyIds.join(", ")})` : "unsigned",
                  [c.from, c.auth, c.lastFetched === null ? "" : `fetched ${c.lastFetched}`].filter((x) => x).join("; "),
                ].map(terminalLine),
              ),
            ]),
      );
    });

  withJson(catalog.command("remove <name>").description("remove a catalog source and its cached index"))
    .addHelpText("after", "\nExample:\n  pk3s catalog remove internal\n")
    .action(async (name: string, o: { json?: boolean }) => {
      const { removeCatalog } = await import("../operations/catalog-ops.js");
      const r = await removeCatalog(name);
      emit(o, { ok: true, ...r }, () =>
        terminalLine(
          `removed catalog ${name}${r.origin === "built-in" ? ` (built in; bring it back with: pk3s catalog add ${name})` : ""}`,
        ),
      );
    });

  withJson(catalog.command("update [name]").description("fetch catalog indexes now (conditional GET) and refresh the cache"))
    .addHelpText("after", "\nExample:\n  pk3s catalog update\n")
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      const { updateCatalogs } = await import("../operations/catalog-ops.js");
      const r = await updateCatalogs(name);
      // Problems quote the index (unknown keys, kinds, URLs): made terminal-safe.
      if (o.json !== true) for (const c of r.catalogs) for (const w of c.warnings) log(terminalLine(formatProblem(w)));
      emit(o, { ok: true, ...r }, () => r.catalogs.map((c) => terminalLine(`${c.name}: ${c.entries} entries (${c.origin})`)).join("\n"));
    });

  withJson(
    catalog
      .command("index <dir>")
      .description("publisher: build a v1 catalog index from a folder of .tgz packages (like helm repo index); sign it with --sign-key")
      .option("--base-url <url>", "absolute URL prefix for the entries (default: paths relative to the index)")
      .option("--merge <index.yaml>", "keep the entries of an existing index that are not in <dir>")
      .option("--out <file>", "where to write the index (default <dir>/index.yaml)")
      .option("--sign-key <file>", `${SIGN_KEY_HELP}; signs every package in <dir> and then the index`)
      .option("--passphrase-stdin", PASSPHRASE_HELP)
      .option("--serial <n>", "the index's serial (default: the previous index's + 1)", int("--serial"))
      .option("--expires-in <duration>", "how long the signed index stays valid: 30d (default), 72h, ...")
      .option(
        "--maintainer <text>",
        "entry metadata for the packages in <dir> (repeatable; default: kept from the previous index)",
        collect,
        [],
      )
      .option("--license <spdx>", "entry metadata: licence of the packages in <dir>")
      .option("--homepage <url>", "entry metadata: home page")
      .option("--source-url <url>", "entry metadata: source repository"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  pk3s catalog index ./packages --base-url https://downloads.example.com/addons/ --out ./index.yaml\n" +
        '  PK3S_SIGNING_KEY="$RELEASE_KEY" pk3s catalog index ./public --expires-in 30d --license Apache-2.0\n',
    )
    .action(
      async (
        dir: string,
        o: {
          json?: boolean;
          baseUrl?: string;
          merge?: string;
          out?: string;
          signKey?: string;
          passphraseStdin?: boolean;
          serial?: number;
          expiresIn?: string;
          maintainer: string[];
          license?: string;
          homepage?: string;
          sourceUrl?: string;
        },
      ) => {
        const { buildCatalogIndex } = await import("../catalog/catalog-index.js");
        const r = await buildCatalogIndex({ ...o, dir, keyFile: o.signKey, maintainers: o.maintainer, source: o.sourceUrl });
        emit(o, { ok: true, ...r }, () =>
          [
            `wrote ${r.out}: ${r.entries} entries (${r.added} from ${dir}${o.merge ? `, ${r.merged} kept from ${o.merge}` : ""})`,
            ...(r.serial === undefined ? [] : [`serial ${r.serial}, expires ${r.expires}`]),
            ...(r.signed === undefined
              ? []
              : [`signed with key ${r.signed.keyId}: ${r.signed.signature}, ${r.signed.packagesSigned} package signature(s) written`]),
          ]
            .map(terminalLine)
            .join("\n"),
        );
      },
    );

  withJson(
    catalog
      .command("prune <dir>")
      .description("publisher: delete all but the newest N versions of each package in a folder, and rewrite its index")
      .requiredOption(
        "--keep-latest <n>",
        "releases to keep per package (prereleases newer than the newest release are kept too)",
        int("--keep-latest"),
      )
      .option("--include-prerelease", "count prereleases among the newest N like releases")
      .option("--index <file>", "the index to rewrite (default <dir>/index.yaml when it exists)")
      .option("--sign-key <file>", `${SIGN_KEY_HELP}; required when the index is signed`)
      .option("--passphrase-stdin", PASSPHRASE_HELP)
      .option("--expires-in <duration>", "validity of the re-signed index: 30d (default), 72h, ...")
      .option("--dry-run", "change nothing: only list what would be deleted"),
  )
    .addHelpText("after", "\nExample:\n  pk3s catalog prune ./packages --keep-latest 3 --dry-run\n")
    .action(
      async (
        dir: string,
        o: {
          json?: boolean;
          keepLatest: number;
          includePrerelease?: boolean;
          index?: string;
          signKey?: string;
          passphraseStdin?: boolean;
          expiresIn?: string;
          dryRun?: boolean;
        },
      ) => {
        const { pruneCatalogDir } = await import("../catalog/catalog-prune.js");
        const r = await pruneCatalogDir({ ...o, dir, keyFile: o.signKey, dryRun: o.dryRun === true });
        const would = r.dryRun ? "would be " : "";
        emit(o, { ok: true, ...r }, () =>
          [
            ...r.removed.map((f) => `${r.dryRun ? "would remove" : "removed"} ${f.file} (${f.name}@${f.version})`),
            `${r.removed.length} file(s) ${would}removed, ${r.kept.length} kept`,
            ...(r.index === undefined
              ? []
              : [
                  `${r.index.file} ${would}rewritten: ${r.index.removedEntries} entr${r.index.removedEntries === 1 ? "y" : "ies"} dropped` +
                    `${r.index.serial === undefined ? "" : `, serial ${r.index.serial}`}${r.index.signed ? ", signed" : ""}`,
                ]),
          ]
            .map(terminalLine)
            .join("\n"),
        );
      },
    );

  registerTrust(catalog);
}

function renderTrust(r: { catalog: string; keys: { keyId: string; publicKey: string }[] }): string {
  return r.keys.length === 0
    ? `catalog ${r.catalog} trusts no key: it is used on digests alone (unsigned)`
    : [
        `catalog ${r.catalog} trusts ${r.keys.length} key${r.keys.length === 1 ? "" : "s"}:`,
        ...r.keys.map((k) => `  ${k.keyId}  ${k.publicKey}`),
      ]
        .map(terminalLine)
        .join("\n");
}

/** `pk3s catalog trust add|remove|list|require`. */
function registerTrust(catalog: Command): void {
  const trust = catalog.command("trust").description("the minisign keys a catalog must be signed with (several during a key rotation)");
  trust.addHelpText(
    "after",
    "\nExample:\n  pk3s catalog trust add internal ./release-2027.pub\n  pk3s catalog trust remove internal 54F5F617565A7536\n",
  );

  withJson(trust.command("add <name> <key>").description("trust one more key (a public key file or its RW... line)"))
    .addHelpText("after", "\nExample:\n  pk3s catalog trust add internal ./release-2027.pub\n")
    .action(async (name: string, key: string, o: { json?: boolean }) => {
      const { trustKey } = await import("../operations/catalog-trust-ops.js");
      const r = await trustKey(name, key);
      emit(o, { ok: true, ...r }, () => `${r.added ? "" : "already trusted; "}${renderTrust(r)}`);
    });

  withJson(trust.command("remove <name> <key>").description("stop trusting a key (its id as listed, its RW... line or its file)"))
    .addHelpText("after", "\nExample:\n  pk3s catalog trust remove internal 54F5F617565A7536\n")
    .action(async (name: string, key: string, o: { json?: boolean }) => {
      const { untrustKey } = await import("../operations/catalog-trust-ops.js");
      const r = await untrustKey(name, key);
      emit(o, { ok: true, ...r }, () => `removed key ${r.removed}; ${renderTrust(r)}`);
    });

  withJson(trust.command("list <name>").description("the keys a catalog trusts"))
    .addHelpText("after", "\nExample:\n  pk3s catalog trust list internal --json\n")
    .action(async (name: string, o: { json?: boolean }) => {
      const { listTrust } = await import("../operations/catalog-trust-ops.js");
      const r = await listTrust(name);
      emit(o, { ok: true, ...r }, () => renderTrust(r));
    });

  withJson(trust.command("require <on|off>").description("refuse (on) or allow (off) catalogs without trusted keys, for every command"))
    .addHelpText("after", "\nExample:\n  pk3s catalog trust require on\n")
    .action(async (value: string, o: { json?: boolean }) => {
      const { setRequireSignatures } = await import("../operations/catalog-trust-ops.js");
      const r = await setRequireSignatures(value);
      emit(o, { ok: true, ...r }, () =>
        r.requireSignatures ? "catalogs without trusted keys are now refused" : "catalogs without trusted keys are allowed (digests only)",
      );
    });
}
