/**
 * `pk3s push`: one package to an OCI registry, over a session's transport (`../oci/push.ts` does the work).
 * With `--sign-key` the package is signed first, exactly as `pk3s sign` signs it (same key loading and
 * passphrase handling), and that signature is pushed as its referring artifact.
 */
import { type PushResult, pushPackage } from "../oci/push.js";
import type { RegistryFlags } from "../oci/registry-settings.js";
import type { PassphraseInput } from "../trust/signing-key.js";
import { withSession } from "./session.js";

export interface PushCommandInput extends RegistryFlags, PassphraseInput {
  file: string;
  destination: string;
  force?: boolean | undefined;
  /** `--sign-key FILE`: sign the package now and push that signature. */
  signKey?: string | undefined;
}

/** The `.minisig` text of `file`, made with the secret key in `keyFile`. */
async function signPackage(file: string, input: PushCommandInput & { signKey: string }): Promise<Buffer> {
  const { loadSigningKey } = await import("../trust/signing-key.js");
  const { key } = await loadSigningKey({ keyFile: input.signKey, passphraseStdin: input.passphraseStdin });
  const { signContent } = await import("@productive-k3s/pkg-format/minisign");
  return Buffer.from(await signContent({ file }, key), "utf8");
}

export async function push(input: PushCommandInput): Promise<PushResult> {
  // Signed before any network use: a wrong key or passphrase fails before anything is uploaded.
  const signature = input.signKey === undefined ? undefined : await signPackage(input.file, { ...input, signKey: input.signKey });
  return withSession({ registry: { caFile: input.caFile, plainHttp: input.plainHttp } }, (session) =>
    pushPackage({ file: input.file, destination: input.destination, force: input.force, signature, transport: session.transport }),
  );
}
