/**
 * The media types of a package published to an OCI registry (DESIGN §9), and the OCI ones pk3s reads.
 *
 * A package version is one OCI image manifest: `artifactType` `application/vnd.productive-k3s.<kind>.v1`,
 * a config blob holding the package manifest as JSON, one layer with the `.tgz`. Its signature is a
 * second manifest whose `subject` is the package's; the repository's list of package names (for
 * registries without `_catalog`) is a third kind of artifact.
 */

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
/** The `Accept` of a manifest request: what pk3s can read (and indexes, to say what they are). */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(", ");

/** The OCI "empty" config: `{}`. */
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";
export const EMPTY_JSON = Buffer.from("{}", "utf8");

export const PACKAGE_CONFIG = "application/vnd.productive-k3s.package.config.v1+json";
export const SIGNATURE_ARTIFACT = "application/vnd.productive-k3s.signature.v1";
export const SIGNATURE_LAYER = "application/vnd.productive-k3s.signature.v1+minisign";
export const NAMES_ARTIFACT = "application/vnd.productive-k3s.catalog.v1";
export const NAMES_LAYER = "application/vnd.productive-k3s.catalog.v1+json";

export const PACKAGE_KINDS = ["addon", "profile", "stack"] as const;
export type PackageKind = (typeof PACKAGE_KINDS)[number];

export function packageArtifactType(kind: PackageKind): string {
  return `application/vnd.productive-k3s.${kind}.v1`;
}

export function packageLayerType(kind: PackageKind): string {
  return `application/vnd.productive-k3s.${kind}.v1.tar+gzip`;
}

/** The kind whose package layer has this media type, if any. */
export function kindOfLayer(mediaType: string): PackageKind | undefined {
  return PACKAGE_KINDS.find((k) => packageLayerType(k) === mediaType);
}

/** Standard annotation keys (OCI image spec, annotations.md). */
export const ANNOTATION = {
  title: "org.opencontainers.image.title",
  version: "org.opencontainers.image.version",
  description: "org.opencontainers.image.description",
  created: "org.opencontainers.image.created",
  licenses: "org.opencontainers.image.licenses",
  source: "org.opencontainers.image.source",
  url: "org.opencontainers.image.url",
  authors: "org.opencontainers.image.authors",
} as const;

/** pk3s's own annotation: the package kind, readable without the config blob. */
export const KIND_ANNOTATION = "io.productive-k3s.package.kind";
