/** `pk3s push FILE.tgz oci://HOST/REPO`: publish a package to an OCI registry. */
import { emit } from "@productive-k3s/pkg-format/cli";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { Command } from "commander";
import { withJson, withRegistryOptions } from "./options.js";
import { PASSPHRASE_HELP } from "./signing.js";

export function registerPush(program: Command): void {
  withRegistryOptions(
    withJson(
      program
        .command("push <file> <oci-repository>")
        .description(
          "publish a package to an OCI registry as oci://HOST/REPO/<name>:<version> (a FILE.minisig beside it, or --sign-key, is pushed as its signature)",
        )
        .option("--force", "move an existing version's tag to this package (refused by default when its content differs)")
        .option("--sign-key <file>", "sign the package with this secret key file (mode 0600) and push the signature with it")
        .option("--passphrase-stdin", PASSPHRASE_HELP),
    ),
  )
    .addHelpText(
      "after",
      "\nExample:\n  pk3s push dist/longhorn-1.2.0.tgz oci://registry.example.com/platform/addons --sign-key ./release.key\n  pk3s addon install oci://registry.example.com/platform/addons/longhorn:1.2.0\n",
    )
    .action(
      async (
        file: string,
        destination: string,
        o: { json?: boolean; force?: boolean; caFile?: string; plainHttp?: boolean; signKey?: string; passphraseStdin?: boolean },
      ) => {
        const { push } = await import("../operations/push.js");
        const r = await push({ file, destination, ...o });
        emit(o, { ok: true, ...r }, () =>
          [
            `${r.action === "unchanged" ? "already published" : r.action === "replaced" ? "replaced" : "pushed"} ${r.kind} ${r.name}@${r.version}: ${r.reference}`,
            `digest: ${r.digest}`,
            ...(r.signature === null ? [] : [`signature: ${r.signature.digest} (tag ${r.signature.tag}, from ${r.signature.from})`]),
          ]
            .map(terminalLine)
            .join("\n"),
        );
      },
    );
}
