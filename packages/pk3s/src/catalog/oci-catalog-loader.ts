/**
 * OCI registry catalogs (`oci://HOST/REPO`): the index is built from the registry
 * (`oci/registry-index.ts`), then cached like an HTTP catalog's index and read
 * the same way: from the cache while younger than PK3S_CATALOG_TTL, never from
 * the network with `--offline`, and from an older copy (with a warning) when
 * the registry cannot be reached. Rebuilding reuses the entries of the cached
 * index whose manifests did not change.
 */
import { NotFoundError } from "@productive-k3s/pkg-format/errors";
import { parseOciRepository } from "../oci/reference.js";
import { buildRegistryIndex } from "../oci/registry-index.js";
import { catalogTtlMs, fromCache, staleOrThrow } from "./http-catalog-loader.js";
import { parseIndex, withSource } from "./indexed-entries.js";
import type { CatalogLoader } from "./loaded-catalog.js";

function generatedNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

export const loadOciCatalog: CatalogLoader = async (source, cache, options) => {
  const meta = await cache.readMeta();
  if (options.offline) {
    const cached = meta === undefined ? undefined : await fromCache(source, cache, meta, "cache", options.query);
    if (cached === undefined) {
      throw new NotFoundError(`catalog "${source.name}" has no cached index and --offline forbids the network`, {
        where: source.url,
        hint: "run `pk3s catalog update` while online",
      });
    }
    return cached;
  }
  if (meta !== undefined && options.forceRefresh !== true && Date.now() - Date.parse(meta.fetchedAt) < catalogTtlMs()) {
    const cached = await fromCache(source, cache, meta, "cache", options.query);
    if (cached !== undefined) return cached;
  }
  const repo = parseOciRepository(source.url, `catalog "${source.name}"`);
  try {
    const previous = meta === undefined ? undefined : await cache.readEntries(meta.sha256);
    const client = await (await options.transport.registries()).client(repo.registry);
    const built = await buildRegistryIndex(client, repo, previous?.entries ?? [], generatedNow());
    const bytes = Buffer.from(built.text, "utf8");
    const parsed = await parseIndex(cache, bytes); // validated before caching
    const written = await cache.writeFetchedIndex(bytes, parsed.sha256, {});
    const loaded = withSource(source, parsed);
    return {
      source,
      entries: loaded.entries,
      warnings: [...built.warnings, ...loaded.warnings],
      origin: "network" as const,
      fetchedAt: written.fetchedAt,
    };
  } catch (err) {
    // The registry cannot be reached, with an older copy at hand: use it, say so.
    return staleOrThrow(err, source, cache, meta);
  }
};
