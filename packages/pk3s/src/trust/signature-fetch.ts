/**
 * Where a signature lives and how it is fetched: `<url>.minisig`, beside the
 * signed file (an index or a package), through the same transport and with the
 * same origin-bound credentials. A missing signature is an integrity error,
 * not "not found": for a catalog with trusted keys it is a refusal.
 * (An OCI package's signature is a referring artifact in its registry:
 * `registry-signatures.ts`.)
 */
import { IntegrityError, NotFoundError } from "@productive-k3s/pkg-format/errors";
import { displayUrl, type OriginAuth } from "../fetch/fetcher.js";
import type { Transport } from "../fetch/transport.js";

export function signatureUrl(signed: URL | string): URL {
  const url = new URL(String(signed));
  url.pathname = `${url.pathname}.minisig`;
  return url;
}

export async function fetchSignature(
  transport: Transport,
  signed: URL | string,
  label: string,
  auth: OriginAuth | undefined,
): Promise<string> {
  const url = signatureUrl(signed);
  const { MAX_SIGNATURE_FILE_BYTES } = await import("@productive-k3s/pkg-format/minisign");
  try {
    return await transport.fetch({ url, label: `${label} signature`, auth, maxBytes: MAX_SIGNATURE_FILE_BYTES }, async (res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks).toString("utf8");
    });
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new IntegrityError("signature-missing", `${label} is not signed: ${displayUrl(url)} does not exist`, {
        where: displayUrl(url),
        hint: "this catalog has trusted keys, so everything it serves must be signed; ask its publisher (pk3s catalog index --sign-key)",
      });
    }
    throw err;
  }
}
