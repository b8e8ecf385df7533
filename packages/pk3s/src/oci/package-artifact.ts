/**
 * A pk3s package as an OCI artifact (DESIGN §9): the manifest behind a reference, checked to be one of
 * ours (one package layer, the package config), and its config blob (the package manifest as JSON).
 */
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { readBlob } from "./blob-store.js";
import { type Descriptor, type ImageManifest, parseImageManifest } from "./manifest.js";
import { getManifest } from "./manifest-store.js";
import { kindOfLayer, OCI_MANIFEST, PACKAGE_CONFIG, type PackageKind } from "./media-types.js";
import { formatReference, type OciReference } from "./reference.js";
import type { RegistryClient } from "./registry-client.js";

/** The package manifest (addon.yaml, …) in the config blob is at most this large. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface PackageArtifact {
  registry: string;
  repository: string;
  /** The tag it was asked by, if any. */
  tag: string | undefined;
  /** The manifest's digest: what pins this exact package version. */
  digest: string;
  /** Descriptor of the manifest itself (the `subject` of its signatures). */
  descriptor: Descriptor;
  manifest: ImageManifest;
  kind: PackageKind;
  layer: Descriptor;
  config: Descriptor;
}

export function artifactReference(a: Pick<PackageArtifact, "registry" | "repository" | "digest">): string {
  return formatReference({ registry: a.registry, repository: a.repository, digest: a.digest });
}

/** The artifact `ref` names; a manifest that is not a pk3s package is refused (exit 4) saying what it is. */
export async function resolvePackageArtifact(client: RegistryClient, ref: OciReference): Promise<PackageArtifact> {
  const reference = ref.digest ?? ref.tag!;
  const where = formatReference(ref);
  const fetched = await getManifest(client, ref.repository, reference);
  const manifest = parseImageManifest(fetched.bytes, where);
  const packageLayers = manifest.layers.filter((l) => kindOfLayer(l.mediaType) !== undefined);
  if (manifest.config.mediaType !== PACKAGE_CONFIG || packageLayers.length !== 1) {
    const what = manifest.artifactType ?? manifest.config.mediaType;
    throw new ValidationError(`${where} is not a pk3s package (its type is ${what})`, [], {
      where,
      hint: "pk3s installs packages published with pk3s push (config application/vnd.productive-k3s.package.config.v1+json, one package layer)",
    });
  }
  const layer = packageLayers[0]!;
  return {
    registry: ref.registry,
    repository: ref.repository,
    tag: ref.tag,
    digest: fetched.digest,
    descriptor: { mediaType: manifest.mediaType ?? OCI_MANIFEST, digest: fetched.digest, size: fetched.bytes.byteLength },
    manifest,
    kind: kindOfLayer(layer.mediaType)!,
    layer,
    config: manifest.config,
  };
}

/** The package manifest (as published: addon.yaml / profile.yaml / stack.yaml as JSON), verified by digest. */
export async function readPackageConfig(client: RegistryClient, artifact: PackageArtifact): Promise<unknown> {
  const where = artifactReference(artifact);
  const bytes = await readBlob(client, artifact.repository, artifact.config, `package config of ${where}`, MAX_CONFIG_BYTES);
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new ValidationError(`${where}: the package config is not JSON`, [], { where });
  }
}
