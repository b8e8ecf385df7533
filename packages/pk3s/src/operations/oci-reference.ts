/**
 * A package named directly by its OCI reference (`pk3s addon install oci://HOST/REPO/NAME:VERSION` or
 * `…@sha256:…`): the artifact is resolved (manifest, then its config blob: no package bytes yet) into
 * an entry of a one-entry catalog named after the repository, pinned to the manifest's digest. The rest
 * of pk3s then treats it like any catalog entry: the same download, digest check, cache and binding
 * checks, and its dependencies resolve from the configured catalogs.
 */
import { IntegrityError, NotFoundError } from "@productive-k3s/pkg-format/errors";
import type { LoadedCatalog, ResolvedEntry } from "../catalog/loaded-catalog.js";
import type { PackageSpec, PackageType } from "../catalog/resolve.js";
import { artifactReference, readPackageConfig, resolvePackageArtifact } from "../oci/package-artifact.js";
import { packageEntry } from "../oci/package-entry.js";
import { parseOciReference, repositoryUrl, tagVersion } from "../oci/reference.js";
import { listTags } from "../oci/tag-list.js";
import type { Session } from "./session.js";

export interface OciResolution {
  /** A catalog holding just this entry (named after the repository), for resolution and output. */
  catalog: LoadedCatalog;
  /** Selects exactly this entry from `catalog`. */
  spec: PackageSpec;
  entry: ResolvedEntry;
}

function article(type: string): string {
  return type === "addon" ? "an add-on" : `a ${type}`;
}

export async function resolveOciReference(session: Session, raw: string, type: PackageType): Promise<OciResolution> {
  const ref = parseOciReference(raw);
  // A reference names no catalog, so no key vouches for it: under a signature policy it is refused before any
  // network use (its bytes would be checked against nothing but the registry's own digest).
  if (await session.signaturesRequired()) {
    throw new IntegrityError(
      "reference-unsigned",
      `${raw}: a direct OCI reference has no catalog with a trusted key, and signatures are required`,
      {
        where: raw,
        hint: "add the repository as a catalog with its publisher's key (pk3s catalog add NAME oci://HOST/REPO --trust-key KEY) and install by name, or drop --require-signatures / PK3S_REQUIRE_SIGNATURES / requireSignatures",
      },
    );
  }
  if (session.options.offline === true) {
    throw new NotFoundError(`${raw}: --offline cannot resolve an OCI reference`, {
      where: raw,
      hint: "resolve it once online; a package already downloaded stays in the cache by digest",
    });
  }
  const client = await (await session.transport.registries()).client(ref.registry);
  const artifact = await resolvePackageArtifact(client, ref);
  const entry = await packageEntry(artifact, await readPackageConfig(client, artifact));
  const name = repositoryUrl(ref);
  if (entry.type !== type) {
    throw new NotFoundError(`${raw} is ${article(entry.type)}, not ${article(type)}`, {
      where: raw,
      hint: `use pk3s ${entry.type} ... ${raw}`,
    });
  }
  const resolved: ResolvedEntry = { ...entry, catalog: name, resolvedUrl: artifactReference(artifact) };
  return {
    catalog: {
      source: { name, url: name, priority: Number.MAX_SAFE_INTEGER },
      entries: [resolved],
      warnings: [],
      origin: "network",
    },
    spec: { catalog: name, name: entry.name, range: entry.version, raw },
    entry: resolved,
  };
}

/**
 * `show`'s version list for a package named by reference: the versions its repository's tags stand for
 * (without reading each manifest; `entry` is the one resolved).
 */
export async function ociVersions(session: Session, raw: string, entry: ResolvedEntry): Promise<ResolvedEntry[]> {
  const ref = parseOciReference(raw);
  const client = await (await session.transport.registries()).client(ref.registry);
  const versions = (await listTags(client, ref.repository)).map(tagVersion).filter((v): v is string => v !== undefined);
  return [entry, ...versions.filter((v) => v !== entry.version).map((version) => ({ ...entry, version }))];
}
