/**
 * What a command needs from a catalog's entries: a search needle and/or the
 * exact names a resolution reaches. The cache reads only what a query can
 * select; `selects` is the same selection made on parsed entries.
 */
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";

/**
 * `needle` (lowercase): only entries whose name, description or category may contain it (a superset
 * prefilter: callers still check the fields they search). `names`: only entries with these exact names
 * (dependency resolution asks for the names it reaches).
 */
export interface CompactQuery {
  needle?: string | undefined;
  names?: ReadonlySet<string> | undefined;
}

/** Whether the query narrows anything (an empty needle selects everything). */
export function isSelective(query: CompactQuery): boolean {
  return query.names !== undefined || (query.needle !== undefined && query.needle !== "");
}

/**
 * The selection on a parsed entry (no usable lookup file, or a cold parse): the fields search checks, lower-cased
 * as it does. Tabs and line breaks are kept here, so a needle holding one still finds its entry.
 */
export function selects(query: CompactQuery, e: CatalogEntry): boolean {
  const needle = query.needle;
  return (
    (query.names === undefined || query.names.has(e.name)) &&
    (needle === undefined || [e.name, e.description, e.category].some((f) => (f ?? "").toLowerCase().includes(needle)))
  );
}
