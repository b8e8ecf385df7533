/**
 * Loading the configured catalogs into memory: one loader per kind of
 * source (`file-catalog-loader.ts`, `http-catalog-loader.ts`), each with the
 * catalog's own cache (`catalog-cache.ts`). The choice of loader is made here
 * and nowhere else.
 */
import { unsignedCatalogError } from "../trust/catalog-trust.js";
import { CatalogCache } from "./catalog-cache.js";
import type { CatalogSource } from "./catalog-source.js";
import { loadFileCatalog } from "./file-catalog-loader.js";
import { loadHttpCatalog } from "./http-catalog-loader.js";
import type { CatalogLoader, LoadedCatalog, LoadOptions } from "./loaded-catalog.js";

/** By URL scheme: sources are normalised to file:, http:, https: or oci: URLs (catalog-source.ts). */
const LOADERS: Readonly<Record<string, CatalogLoader>> = {
  "file:": loadFileCatalog,
  "http:": loadHttpCatalog,
  "https:": loadHttpCatalog,
  // The registry client loads only for a configured registry catalog.
  "oci:": (source, cache, options) => import("./oci-catalog-loader.js").then((m) => m.loadOciCatalog(source, cache, options)),
};

export function loadCatalog(source: CatalogSource, options: LoadOptions): Promise<LoadedCatalog> {
  if (options.requireSignatures === true && (source.trustedKeys ?? []).length === 0) return Promise.reject(unsignedCatalogError(source));
  const protocol = new URL(source.url).protocol;
  const loader = LOADERS[protocol] ?? loadHttpCatalog;
  return loader(source, new CatalogCache(source.url), options);
}

/** Every source, each loaded or holding its `failure`: one unreadable catalog does not hide the others. */
export function loadCatalogs(sources: readonly CatalogSource[], options: LoadOptions): Promise<LoadedCatalog[]> {
  return Promise.all(
    sources.map((source) =>
      loadCatalog(source, options).catch(
        (failure: unknown): LoadedCatalog => ({ source, entries: [], warnings: [], origin: "unreadable", failure }),
      ),
    ),
  );
}
