/** What loading a catalog gives the rest of pk3s, whatever kind of source it came from. */
import type { Problem } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import type { Transport } from "../fetch/transport.js";
import type { CatalogCache } from "./catalog-cache.js";
import type { CompactQuery } from "./catalog-query.js";
import type { CatalogSource } from "./catalog-source.js";

/** A catalog entry with its catalog's name and its URL made absolute. */
export type ResolvedEntry = CatalogEntry & { catalog: string; resolvedUrl: string };

export interface LoadedCatalog {
  source: CatalogSource;
  entries: ResolvedEntry[];
  warnings: Problem[];
  /** Where the index came from this time. */
  origin: "file" | "network" | "cache" | "revalidated" | "stale-cache" | "unreadable";
  fetchedAt?: string | undefined;
  /** How many entries the index has (a count-only load holds none of them). */
  total?: number | undefined;
  /**
   * Why the catalog could not be read (no usable cached copy either): it then
   * holds no entries. Search leaves it out with a warning; resolution stops
   * with this error when it reaches the catalog in priority order.
   */
  failure?: unknown;
}

export interface LoadOptions {
  transport: Transport;
  offline: boolean;
  /** Ignore the TTL and revalidate (catalog update). */
  forceRefresh?: boolean;
  /** Read only the cached entries matching this prefilter (search); a cold parse still returns everything. */
  query?: CompactQuery | undefined;
  /** Only the entry count and the warnings are wanted (`catalog add`/`update`): entries are not kept. */
  countOnly?: boolean | undefined;
  /** Refuse a catalog without trusted keys (`--require-signatures`). */
  requireSignatures?: boolean | undefined;
}

/** One kind of catalog source (file, HTTP, later OCI): how its index is read and cached. */
export type CatalogLoader = (source: CatalogSource, cache: CatalogCache, options: LoadOptions) => Promise<LoadedCatalog>;
