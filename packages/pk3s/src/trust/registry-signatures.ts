/**
 * The signatures of a package in an OCI registry (DESIGN §8-9): the `.minisig` texts of the signature
 * artifacts that refer to the package's manifest (referrers API, or the `sha256-<hex>.sig` tag), found by
 * `oci/signature-artifacts.ts`. Which of them verifies, over the downloaded bytes, is decided by the caller:
 * the registry only tells where to look, never what to trust.
 */
import { IntegrityError } from "@productive-k3s/pkg-format/errors";
import type { Transport } from "../fetch/transport.js";
import { artifactReference, resolvePackageArtifact } from "../oci/package-artifact.js";
import { parseOciReference } from "../oci/reference.js";
import { findSignatures } from "../oci/signature-artifacts.js";

export interface RegistrySignature {
  /** `oci://HOST/REPO@sha256:…` of the signature artifact, for messages. */
  where: string;
  text: string;
}

/** Every signature the registry holds for the package at `url`; none is a refusal (`signature-missing`). */
export async function registrySignatures(transport: Transport, url: string, label: string): Promise<RegistrySignature[]> {
  const ref = parseOciReference(url);
  const client = await (await transport.registries()).client(ref.registry);
  const artifact = await resolvePackageArtifact(client, ref);
  const found = await findSignatures(client, ref.repository, artifact.descriptor);
  if (found.length === 0) {
    const where = artifactReference(artifact);
    throw new IntegrityError("signature-missing", `${label} is not signed: the registry holds no signature artifact for ${where}`, {
      where,
      hint: "this catalog has trusted keys, so every package must be signed; the publisher pushes one with pk3s push --sign-key (or a FILE.tgz.minisig beside the package)",
    });
  }
  return found.map((f) => ({ where: `oci://${ref.registry}/${ref.repository}@${f.digest}`, text: f.minisig }));
}
