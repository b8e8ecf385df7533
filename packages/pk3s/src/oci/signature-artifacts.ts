/**
 * Signatures of packages in a registry (DESIGN §8-9): a `.minisig` of the package's `.tgz` travels as its
 * own artifact (artifactType `application/vnd.productive-k3s.signature.v1`, the `.minisig` as its layer)
 * whose `subject` is the package manifest, so OCI 1.1 registries list it under the referrers API. It is
 * also tagged `sha256-<hex>.sig` (the cosign convention) so that registries without that API
 * (distribution 2.8, most hosted ones until recently) find it too.
 *
 * Looking up reads both (a registry may support one and not the other) and keeps, of every signature
 * artifact found, those whose subject really is the package; which of them verifies is the trust code's
 * business.
 */
import { Pk3sError } from "@productive-k3s/pkg-format/errors";
import { readBlob, uploadBlob } from "./blob-store.js";
import {
  type Descriptor,
  descriptorOf,
  manifestBytes,
  parseImageIndex,
  parseImageManifest,
  signatureManifest,
  signatureTag,
} from "./manifest.js";
import { getManifest, putManifest } from "./manifest-store.js";
import { EMPTY_JSON, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, SIGNATURE_ARTIFACT, SIGNATURE_LAYER } from "./media-types.js";
import { repositoryScope } from "./registry-auth.js";
import type { RegistryClient, RegistryRequest } from "./registry-client.js";

/** A `.minisig` is a few hundred bytes; more is not a signature. */
const MAX_SIGNATURE_BYTES = 64 * 1024;
/** Signature artifacts looked at per package (key rotation leaves a few; thousands would be an attack). */
const MAX_SIGNATURES = 16;

export interface FoundSignature {
  /** Digest of the signature artifact's manifest. */
  digest: string;
  minisig: string;
}

/** Signature manifests the referrers API lists for `subject` ([] when the registry has no such API). */
async function fromReferrers(client: RegistryClient, repository: string, subject: string): Promise<string[]> {
  const req: RegistryRequest = {
    path: `/v2/${repository}/referrers/${subject}?artifactType=${encodeURIComponent(SIGNATURE_ARTIFACT)}`,
    scope: repositoryScope(repository),
    label: `referrers of oci://${client.registry}/${repository}@${subject}`,
    headers: { accept: OCI_INDEX },
    maxBytes: 4 * 1024 * 1024,
  };
  return client.fetch(req, async (res) => {
    if (res.status !== 200) {
      await res.discard();
      return [];
    }
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(Buffer.from(chunk));
    const index = parseImageIndex(Buffer.concat(chunks), req.label);
    return index.manifests.filter((d) => d.artifactType === SIGNATURE_ARTIFACT).map((d) => d.digest);
  });
}

/** The signature manifest under the fallback tag, if there is one. */
async function fromTag(client: RegistryClient, repository: string, subject: string): Promise<string[]> {
  try {
    return [(await getManifest(client, repository, signatureTag(subject), true)).digest];
  } catch (err) {
    if (err instanceof Pk3sError && err.code === "E_NOT_FOUND") return [];
    throw err;
  }
}

/** Every signature found for the package manifest `subject` (its `.minisig` texts). */
export async function findSignatures(client: RegistryClient, repository: string, subject: Descriptor): Promise<FoundSignature[]> {
  const digests = [
    ...new Set([...(await fromReferrers(client, repository, subject.digest)), ...(await fromTag(client, repository, subject.digest))]),
  ];
  const found: FoundSignature[] = [];
  for (const digest of digests.slice(0, MAX_SIGNATURES)) {
    const where = `oci://${client.registry}/${repository}@${digest}`;
    const manifest = parseImageManifest((await getManifest(client, repository, digest)).bytes, where);
    // Only a signature artifact about this very package counts: a tag can point anywhere.
    if (manifest.artifactType !== SIGNATURE_ARTIFACT || manifest.subject?.digest !== subject.digest) continue;
    const layer = manifest.layers.find((l) => l.mediaType === SIGNATURE_LAYER);
    if (layer === undefined) continue;
    const bytes = await readBlob(client, repository, layer, `signature ${where}`, MAX_SIGNATURE_BYTES);
    found.push({ digest, minisig: bytes.toString("utf8") });
  }
  return found;
}

/** Push `minisig` as the signature artifact of `subject`, tagged `sha256-<hex>.sig`. */
export async function pushSignature(
  client: RegistryClient,
  repository: string,
  subject: Descriptor,
  minisig: Buffer,
  created: string,
): Promise<{ digest: string; tag: string }> {
  const manifest = signatureManifest(subject, minisig, created);
  await uploadBlob(client, repository, descriptorOf(OCI_EMPTY, EMPTY_JSON), () => EMPTY_JSON, "the empty config {}");
  await uploadBlob(client, repository, descriptorOf(SIGNATURE_LAYER, minisig), () => minisig, "the signature");
  const tag = signatureTag(subject.digest);
  const put = await putManifest(client, repository, tag, manifestBytes(manifest), OCI_MANIFEST);
  return { digest: put.digest, tag };
}
