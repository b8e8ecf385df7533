/**
 * A registry repository as a catalog (`pk3s catalog add NAME oci://HOST/REPO`): its index is built from the
 * registry and then cached, searched and resolved like any other catalog's.
 *
 * - names: the repository's names index, else `_catalog` (`names-index.ts`);
 * - versions: each name's tags that are versions (`1.2.0`, `1.2.0_build.1` for `1.2.0+build.1`);
 * - entries: each version's manifest (its digest pins the entry's URL, `oci://HOST/REPO/NAME@sha256:…`)
 *   and config blob (the package manifest: description, dependencies, compatibility, inputs); the
 *   entry's `digest` is the package layer's, so the package cache stays keyed by the `.tgz`'s sha256.
 *
 * A refresh asks only for the manifest digest of each tag (HEAD) and reuses the entries of the previous
 * index whose manifest is unchanged, so only new or moved versions cost more than one request. Tags that
 * hold something else (a chart, a package of another name) are left out with a warning, as a broken
 * entry of a published index is.
 */
import { NotFoundError, Pk3sError, type Problem } from "@productive-k3s/pkg-format/errors";
import { isValidName } from "@productive-k3s/pkg-format/names";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { mapBounded } from "../catalog/bounded-map.js";
import { indexYaml } from "../catalog/index-yaml.js";
import { headManifest } from "./manifest-store.js";
import { packageNames } from "./names-index.js";
import { artifactReference, readPackageConfig, resolvePackageArtifact } from "./package-artifact.js";
import { packageEntry } from "./package-entry.js";
import { formatReference, type OciRepositoryRef, repositoryUrl, tagVersion } from "./reference.js";
import type { RegistryClient } from "./registry-client.js";
import { listTags } from "./tag-list.js";

/** Requests in flight at once while reading versions. */
const PARALLEL = 4;

export interface RegistryIndex {
  text: string;
  entries: number;
  warnings: Problem[];
  namesFrom: "names-index" | "_catalog";
}

/** The manifest digest an entry of a previous index is pinned to (`…@sha256:…`). */
function pinnedDigest(entry: CatalogEntry): string | undefined {
  return /@(sha256:[0-9a-f]{64})$/.exec(entry.url)?.[1];
}

export async function buildRegistryIndex(
  client: RegistryClient,
  repo: OciRepositoryRef,
  previous: readonly CatalogEntry[],
  generated: string,
): Promise<RegistryIndex> {
  const where = repositoryUrl(repo);
  const found = await packageNames(client, repo.repository);
  if (found === undefined) {
    throw new NotFoundError(
      `${where}: no package names: it has no names index (${where}:catalog) and the registry does not list its repositories`,
      {
        where,
        hint: "publish to it with pk3s push (which keeps the names index), or use a registry that offers /v2/_catalog",
      },
    );
  }
  const known = new Map<string, CatalogEntry>();
  for (const e of previous) {
    const digest = pinnedDigest(e);
    if (digest !== undefined) known.set(`${e.name}@${digest}`, e);
  }
  const warnings: Problem[] = [];
  const skip = (what: string, err: unknown): undefined => {
    warnings.push({ file: where, message: `${what}: ${err instanceof Error ? err.message : String(err)} (left out)`, severity: "warning" });
    return undefined;
  };
  const versions: { name: string; tag: string }[] = [];
  for (const name of [...new Set(found.names)].sort()) {
    if (!isValidName("package", name)) {
      warnings.push({ file: where, message: `repository ${repo.repository}/${name}: not a package name (left out)`, severity: "warning" });
      continue;
    }
    for (const tag of await listTags(client, `${repo.repository}/${name}`)) {
      if (tagVersion(tag) !== undefined) versions.push({ name, tag });
    }
  }
  const entries = await mapBounded(versions, PARALLEL, async ({ name, tag }): Promise<CatalogEntry | undefined> => {
    const repository = `${repo.repository}/${name}`;
    const ref = { registry: repo.registry, repository, tag };
    try {
      const digest = await headManifest(client, repository, tag);
      const reused = digest === undefined ? undefined : known.get(`${name}@${digest}`);
      if (reused !== undefined && tagVersion(tag) === reused.version) return reused;
      const artifact = await resolvePackageArtifact(client, ref);
      const entry = await packageEntry(artifact, await readPackageConfig(client, artifact));
      return { ...entry, url: artifactReference(artifact) };
    } catch (err) {
      // A tag that is not one of our packages, or lies about itself, must not hide the others.
      if (err instanceof Pk3sError && err.exitCode !== 1) return skip(formatReference(ref), err);
      throw err;
    }
  });
  const listed = entries.filter((e): e is CatalogEntry => e !== undefined);
  const doc = { apiVersion: "catalog.productive-k3s.io/v1", kind: "Catalog", generated, entries: listed };
  return { text: await indexYaml(doc), entries: listed.length, warnings, namesFrom: found.from };
}
