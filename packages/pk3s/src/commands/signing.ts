/**
 * Publisher and verification commands: `pk3s pack`, `pk3s key generate`, `pk3s sign`, `pk3s verify`
 * (minisign-compatible keys and signatures).
 */
import { collect, emit, FLAG_HELP } from "@productive-k3s/pkg-format/cli";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { Command } from "commander";
import { withJson } from "./options.js";

export const PASSPHRASE_HELP = "read the secret key's passphrase from the first line of stdin (default: $PK3S_SIGNING_PASSPHRASE)";
export const SIGN_KEY_HELP = "secret key file, mode 0600 (default: the key in $PK3S_SIGNING_KEY); never the key itself";

/** `pk3s pack SRC... --out DIR`: publisher's packing of many sources at once. */
export function registerPack(program: Command): void {
  withJson(
    program
      .command("pack <source...>")
      .description("publisher: pack add-on, profile and stack source folders (detected by their manifest) into deterministic .tgz files")
      .requiredOption("--out <dir>", "folder for the packages")
      .option("--version <version>", "release builds: this version for every package (written into the packed manifest)")
      .option("--strict", FLAG_HELP.strict),
  )
    .addHelpText("after", "\nExample:\n  pk3s pack addons/* profiles/* stacks/* --out ./public --version 1.4.0\n")
    .action(async (sources: string[], o: { json?: boolean; out: string; version?: string; strict?: boolean }) => {
      const { packSources } = await import("../operations/pack-sources.js");
      const r = await packSources({ ...o, sources });
      emit(o, { ok: true, ...r }, () =>
        r.packages.map((p) => terminalLine(`${p.file} (${p.kind} ${p.name}@${p.version}, ${p.digest})`)).join("\n"),
      );
    });
}

export function registerSigning(program: Command): void {
  const key = program.command("key").description("publisher: signing keys (minisign format)");
  key.addHelpText("after", "\nExample:\n  pk3s key generate --out ./release\n");
  withJson(
    key
      .command("generate")
      .description("write a new key pair: PREFIX.pub (share it) and PREFIX.key (0600, keep it secret)")
      .requiredOption("--out <prefix>", "path prefix of the two files")
      .option(
        "--passphrase-stdin",
        "encrypt the secret key with a passphrase read from stdin (default: $PK3S_SIGNING_PASSPHRASE, else unencrypted)",
      )
      .option("--force", "replace an existing key pair"),
  )
    .addHelpText("after", "\nExample:\n  pk3s key generate --out ./release\n")
    .action(async (o: { json?: boolean; out: string; passphraseStdin?: boolean; force?: boolean }) => {
      const { generateKeyPair } = await import("../operations/key-generate.js");
      const r = await generateKeyPair(o);
      emit(o, { ok: true, ...r }, () =>
        [
          `wrote ${r.publicKeyFile} and ${r.secretKeyFile} (${r.encrypted ? "encrypted" : "unencrypted: keep it in a secret store"})`,
          `key id:     ${r.keyId}`,
          `public key: ${r.publicKey}`,
          `users trust it with: pk3s catalog add <name> <url> --trust-key ${r.publicKey}`,
        ]
          .map(terminalLine)
          .join("\n"),
      );
    });

  withJson(
    program
      .command("sign <file...>")
      .description("publisher: write <file>.minisig for each file (verifiable with pk3s verify or minisign -V)")
      .option("--sign-key <file>", SIGN_KEY_HELP)
      .option("--passphrase-stdin", PASSPHRASE_HELP)
      .option("--legacy", "sign the file itself (minisign -l) instead of its BLAKE2b-512 hash")
      .option("--trusted-comment <text>", "signed one-line comment (default: timestamp and file name, as minisign)"),
  )
    .addHelpText(
      "after",
      "\nExample:\n  pk3s sign dist/longhorn-1.0.0.tgz --sign-key ./release.key\n\nIn CI, with the key's text in a secret variable:\n" +
        '  PK3S_SIGNING_KEY="$RELEASE_KEY" pk3s sign dist/*.tgz\n',
    )
    .action(
      async (
        files: string[],
        o: { json?: boolean; signKey?: string; passphraseStdin?: boolean; legacy?: boolean; trustedComment?: string },
      ) => {
        const { signFiles } = await import("../operations/sign-files.js");
        const r = await signFiles({ ...o, keyFile: o.signKey, files });
        emit(o, { ok: true, ...r }, () => r.signatures.map((s) => terminalLine(`wrote ${s.signature} (key ${r.keyId})`)).join("\n"));
      },
    );

  withJson(
    program
      .command("verify <file>")
      .description("verify <file>.minisig with a trusted public key (exit 6 if it does not verify)")
      .requiredOption("--key <key>", "public key file or its base64 line (RW...); repeatable: any of them", collect, [])
      .option("--sig <file>", "the signature file (default <file>.minisig)"),
  )
    .addHelpText("after", "\nExample:\n  pk3s verify ./longhorn-1.0.0.tgz --key ./release.pub\n")
    .action(async (file: string, o: { json?: boolean; key: string[]; sig?: string }) => {
      const { readPublicKeys, verifySignedFile } = await import("@productive-k3s/pkg-format/minisign");
      const r = await verifySignedFile(file, await readPublicKeys(o.key, "--key"), o.sig);
      const result = {
        file,
        signature: r.signatureFile,
        keyId: r.key.id,
        algorithm: r.algorithm === "ED" ? "prehashed" : "legacy",
        trustedComment: r.trustedComment,
      };
      emit(o, { ok: true, ...result }, () =>
        terminalLine(`${file}: signature verified (key ${result.keyId}, ${result.algorithm}); trusted comment: ${result.trustedComment}`),
      );
    });
}
