/**
 * From an index's text to a catalog's resolved entries, for every kind of
 * source: parsed once per digest (then read from the cache), entry URLs made
 * absolute, and a remote catalog kept from pointing pk3s at local files.
 */
import type { SlowCatalogChecks } from "@productive-k3s/pkg-format/catalog-read";
import { sha256Hex } from "@productive-k3s/pkg-format/digest";
import type { Problem } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { displayUrl } from "../fetch/fetcher.js";
import type { CatalogCache } from "./catalog-cache.js";
import { type CompactQuery, selects } from "./catalog-query.js";
import type { CatalogSource } from "./catalog-source.js";
import type { AdmittedIndex, IndexSummary, ParsedIndex } from "./entries-file.js";
import type { ResolvedEntry } from "./loaded-catalog.js";

/** The slow checks of a catalog read (zod and the yaml library), loaded only for an entry that needs them. */
export async function loadSlowChecks(): Promise<SlowCatalogChecks> {
  return (await import("@productive-k3s/pkg-format/catalog-parse")).slowCatalogChecks;
}

/**
 * The entries of an index's text: from the parsed-entries cache when it has this digest, else read line by
 * line (`catalog-read.ts`) straight into the cache, never holding a document tree. With a query only the
 * selected entries are returned either way, so a cold search does not keep 100,000 entries it is about to
 * filter out. `admit` (a signed catalog's checks: serial, expiry) runs once the whole index is read and before
 * anything of it is cached, and throws to refuse.
 */
export async function parseIndex(
  cache: CatalogCache,
  text: string,
  query?: CompactQuery,
  admit?: (index: AdmittedIndex) => Promise<void>,
): Promise<ParsedIndex> {
  const sha256 = sha256Hex(text);
  const compact = await cache.readEntries(sha256, query);
  if (compact !== undefined) {
    await admit?.(compact);
    return compact;
  }
  // The line reader only on a cache miss: a warm search never loads it (nor the fast checks it uses).
  const { CatalogStreamReader } = await import("@productive-k3s/pkg-format/catalog-read");
  const file = displayUrl(cache.url);
  const selected: CatalogEntry[] = [];
  const ingest = async (fill: (add: (e: CatalogEntry) => void) => Promise<IndexSummary | undefined>): Promise<IndexSummary | undefined> => {
    const { writer, commit } = await cache.entriesWriter();
    selected.length = 0;
    try {
      const summary = await fill((e) => {
        writer.add(e);
        if (query === undefined || selects(query, e)) selected.push(e);
      });
      if (summary === undefined) {
        writer.abort();
        return undefined;
      }
      // A signed catalog's checks (serial, expiry) on the whole index, before anything of it is cached.
      await admit?.({ sha256, ...summary });
      await commit(sha256, summary).catch(() => writer.abort()); // the cache is an optimisation only
      return summary;
    } catch (err) {
      writer.abort();
      throw err;
    }
  };
  // One broken entry must not hide the rest of a catalog: it is left out with a warning (shown by `catalog update`).
  const read = await ingest(async (add) => {
    const reader = new CatalogStreamReader(file, { skipInvalidEntries: true, onEntry: add, loadSlow: loadSlowChecks });
    await reader.push(text);
    const result = await reader.end();
    return result && { warnings: result.warnings, generated: result.generated };
  });
  // A document the line reader cannot split: the whole-document parse decides (and reports).
  const summary =
    read ??
    (await ingest(async (add) => {
      const { parseCatalogDocument } = await import("@productive-k3s/pkg-format/catalog-parse");
      const parsed = parseCatalogDocument(text, file, { skipInvalidEntries: true });
      for (const e of parsed.entries) add(e);
      return { warnings: parsed.warnings, generated: parsed.generated, serial: parsed.serial, expires: parsed.expires };
    }));
  return {
    sha256,
    entries: [...selected],
    warnings: summary?.warnings ?? [],
    generated: summary?.generated,
    serial: summary?.serial,
    expires: summary?.expires,
  };
}

/** A relative path of plain segments (no scheme, query, escapes or dot segments): it resolves by appending. */
const PLAIN_RELATIVE = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*(?:\/[A-Za-z0-9._~-]+)*$/;
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/**
 * `new URL(ref, base)` for one catalog's entries. Most entries are plain relative paths
 * (`packages/x-1.0.0.tgz`), which resolve to the base's directory plus the path: that is
 * computed once, instead of a full URL parse per entry (100,000 entries: ~0.5 s).
 */
export function entryUrlResolver(base: string): (ref: string) => URL | string | undefined {
  const baseUrl = new URL(base);
  const dir = new URL(".", baseUrl).href;
  return (ref) => {
    if (PLAIN_RELATIVE.test(ref) && !DOT_SEGMENT.test(ref)) return dir + ref;
    try {
      return new URL(ref, baseUrl);
    } catch {
      return undefined;
    }
  };
}

/**
 * Entries with absolute URLs and their catalog's name. A remote catalog may
 * only point at http(s) URLs: an entry that would make pk3s read a local
 * file (`file:`) or use another scheme is left out with a warning.
 */
export function withSource(source: CatalogSource, parsed: ParsedIndex): { entries: ResolvedEntry[]; warnings: Problem[] } {
  const remote = !source.url.startsWith("file:");
  const resolveUrl = entryUrlResolver(source.url);
  const baseProtocol = new URL(source.url).protocol;
  const entries: ResolvedEntry[] = [];
  const warnings: Problem[] = [...parsed.warnings];
  for (const e of parsed.entries) {
    const url = resolveUrl(e.url);
    // A plain relative path keeps the catalog's own scheme.
    const protocol = typeof url === "string" ? baseProtocol : url?.protocol;
    // oci:// entries are packages in a registry (any catalog may point at one; the registry client does the rest).
    const allowed = protocol === "https:" || protocol === "http:" || protocol === "oci:" || (!remote && protocol === "file:");
    if (url === undefined || !allowed) {
      warnings.push({
        file: displayUrl(source.url),
        message: `entry ${e.name}@${e.version}: URL "${e.url}" is not allowed in ${remote ? "a remote" : "this"} catalog (left out)`,
        severity: "warning",
      });
      continue;
    }
    entries.push({ ...e, catalog: source.name, resolvedUrl: url.toString() });
  }
  return { entries, warnings };
}
