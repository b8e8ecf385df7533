/**
 * A package in a registry as a catalog entry: its config blob (the package manifest, as published) parsed
 * with the same schemas as a package's own manifest, mapped to the entry fields a catalog index carries,
 * and bound to where it was found. The config comes from the registry and is hostile until checked:
 *
 * - it must be the manifest of the artifact's kind, valid by the package schema;
 * - the package must be named like its repository's last path component (`REPO/longhorn` holds
 *   longhorn), and a tag must be its version (`1.0.0`, or `1.0.0_build` for `1.0.0+build`);
 * otherwise the artifact is refused (exit 6): a registry cannot pass one package off as another.
 */
import { IntegrityError, ValidationError } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { entryFieldsFromManifest } from "../catalog/manifest-entry.js";
import { artifactReference, type PackageArtifact } from "./package-artifact.js";
import { versionTag } from "./reference.js";

/** The validated package manifest of `config` (JSON is YAML: the manifest parsers read it as is). */
async function parseConfig(
  kind: PackageArtifact["kind"],
  config: unknown,
  where: string,
): Promise<{ kind: CatalogEntry["type"]; manifest: unknown }> {
  const text = JSON.stringify(config);
  const { parseAddonManifest, parseProfileManifest } = await import("@productive-k3s/pkg-format/manifest-parse");
  if (kind === "addon") return { kind, manifest: parseAddonManifest(text, where).manifest };
  if (kind === "profile") return { kind, manifest: parseProfileManifest(text, where).manifest };
  throw new ValidationError(`${where}: ${kind} packages cannot be read from a registry by this pk3s`, [], { where });
}

/** The catalog entry of `artifact`, whose config blob held `config`. */
export async function packageEntry(artifact: PackageArtifact, config: unknown): Promise<CatalogEntry> {
  const where = artifactReference(artifact);
  const parsed = await parseConfig(artifact.kind, config, `package config of ${where}`);
  const entry = entryFieldsFromManifest(parsed.kind, parsed.manifest, {
    url: where,
    digest: artifact.layer.digest,
    size: artifact.layer.size,
  });
  const repositoryName = artifact.repository.split("/").pop();
  if (entry.name !== repositoryName) {
    throw new IntegrityError(
      "entry-mismatch",
      `${where} holds ${entry.type} ${entry.name}@${entry.version}, but its repository is named "${repositoryName}"`,
      { where, hint: "a package lives at REPO/<its name>; push it again with pk3s push" },
    );
  }
  if (artifact.tag !== undefined && artifact.tag !== versionTag(entry.version)) {
    throw new IntegrityError(
      "entry-mismatch",
      `${where} holds ${entry.type} ${entry.name}@${entry.version}, but it was found under tag "${artifact.tag}"`,
      { where, hint: "a package version is published under its own version as the tag (pk3s push does that)" },
    );
  }
  return entry;
}
