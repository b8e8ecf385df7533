/**
 * Loading the configured catalogs into memory: file catalogs are read as
 * they are; HTTP catalogs come from the cache while it is younger than the
 * TTL (PK3S_CATALOG_TTL seconds, default 600) and are revalidated with a
 * conditional GET otherwise. `--offline` never touches the network.
 */
import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, type Problem, StepFailedError, UsageError } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { displayUrl } from "../fetch/fetcher.js";
import type { Transport } from "../fetch/transport.js";
import {
  type CatalogMeta,
  type CompactQuery,
  type ParsedIndex,
  readCachedIndex,
  readCompact,
  readFileStatKey,
  readMeta,
  selects,
  sha256Hex,
  touchMeta,
  writeCompact,
  writeFetchedIndex,
  writeFileStatKey,
} from "./catalog-cache.js";
import type { CatalogSource } from "./catalog-source.js";
import { authForCatalog } from "./credentials.js";

/** A catalog entry with its catalog's name and its URL made absolute. */
export type ResolvedEntry = CatalogEntry & { catalog: string; resolvedUrl: string };

export interface LoadedCatalog {
  source: CatalogSource;
  entries: ResolvedEntry[];
  warnings: Problem[];
  /** Where the index came from this time. */
  origin: "file" | "network" | "cache" | "revalidated" | "stale-cache";
  fetchedAt?: string | undefined;
}

export interface LoadOptions {
  transport: Transport;
  offline: boolean;
  /** Ignore the TTL and revalidate (catalog update). */
  forceRefresh?: boolean;
  /** Read only the cached entries matching this prefilter (search); a cold parse still returns everything. */
  query?: CompactQuery | undefined;
}

const INDEX_MAX_BYTES = 64 * 1024 * 1024;

export function catalogTtlMs(): number {
  const raw = process.env.PK3S_CATALOG_TTL;
  if (raw === undefined || raw === "") return 600_000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`PK3S_CATALOG_TTL must be a number of seconds >= 0, got "${raw}"`);
  return n * 1000;
}

/**
 * The entries of an index's text: from the parsed-entries cache when it has this digest, else parsed and
 * cached whole. With a query only the selected entries are returned either way, so a cold search does not
 * resolve and copy 100,000 entries it is about to filter out.
 */
async function parseIndex(source: CatalogSource, text: string, query?: CompactQuery): Promise<ParsedIndex> {
  const sha256 = sha256Hex(text);
  const compact = await readCompact(source.url, sha256, query);
  if (compact !== undefined) return compact;
  // One broken entry must not hide the rest of a catalog: it is left out with a warning (shown by `catalog update`).
  // The parser (yaml + zod, a megabyte of code) loads only on a cache miss: a warm search never compiles it.
  const { parseCatalog } = await import("@productive-k3s/pkg-format/catalog-parse");
  const parsed = parseCatalog(text, displayUrl(source.url), { skipInvalidEntries: true });
  const result: ParsedIndex = { sha256, entries: parsed.entries, warnings: parsed.warnings, generated: parsed.generated };
  await writeCompact(source.url, result).catch(() => undefined); // the cache is an optimisation only
  return query === undefined ? result : { ...result, entries: result.entries.filter((e) => selects(query, e)) };
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
function withSource(source: CatalogSource, parsed: ParsedIndex): { entries: ResolvedEntry[]; warnings: Problem[] } {
  const remote = !source.url.startsWith("file:");
  const resolveUrl = entryUrlResolver(source.url);
  const baseProtocol = new URL(source.url).protocol;
  const entries: ResolvedEntry[] = [];
  const warnings: Problem[] = [...parsed.warnings];
  for (const e of parsed.entries) {
    const url = resolveUrl(e.url);
    // A plain relative path keeps the catalog's own scheme.
    const protocol = typeof url === "string" ? baseProtocol : url?.protocol;
    const allowed = protocol === "https:" || protocol === "http:" || (!remote && protocol === "file:");
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

async function readBody(body: AsyncIterable<Uint8Array>, max: number, label: string): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > max) throw new StepFailedError(`${label}: index larger than ${max} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function loadFileCatalog(source: CatalogSource, options: LoadOptions): Promise<LoadedCatalog> {
  const path = fileURLToPath(source.url);
  /** A missing index (or a path through a file) is "not found"; anything else propagates. */
  const notFound = (err: unknown): never => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new NotFoundError(`catalog "${source.name}": index not found at ${path}`, {
        where: path,
        hint: "create it with `pk3s catalog index <dir>` or fix the path with `pk3s catalog remove` + `pk3s catalog add`",
      });
    }
    throw err;
  };
  const st = await stat(path, { bigint: true }).catch(notFound);
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  // Unchanged file (same inode, size and ns times): use the parsed cache without reading or hashing the index.
  const known = await readFileStatKey(source.url);
  if (known?.key === key) {
    const compact = await readCompact(source.url, known.sha256, options.query);
    if (compact !== undefined) return { source, ...withSource(source, compact), origin: "file" };
  }
  const text = await readFile(path, "utf8").catch(notFound);
  const parsed = await parseIndex(source, text, options.query);
  await writeFileStatKey(source.url, { key, sha256: parsed.sha256 }).catch(() => undefined); // an optimisation only
  return { source, ...withSource(source, parsed), origin: "file" };
}

async function fromCache(
  source: CatalogSource,
  meta: CatalogMeta,
  origin: LoadedCatalog["origin"],
  query?: CompactQuery,
): Promise<LoadedCatalog | undefined> {
  // The parsed entries are keyed by the index's digest; the index text is read only when they are missing.
  let parsed = await readCompact(source.url, meta.sha256, query);
  if (parsed === undefined) {
    const text = await readCachedIndex(source.url, meta);
    if (text === undefined) return undefined;
    parsed = await parseIndex(source, text, query);
  }
  return { source, ...withSource(source, parsed), origin, fetchedAt: meta.fetchedAt };
}

async function loadHttpCatalog(source: CatalogSource, options: LoadOptions): Promise<LoadedCatalog> {
  const meta = await readMeta(source.url);
  if (options.offline) {
    const cached = meta === undefined ? undefined : await fromCache(source, meta, "cache", options.query);
    if (cached === undefined) {
      throw new NotFoundError(`catalog "${source.name}" has no cached index and --offline forbids the network`, {
        where: displayUrl(source.url),
        hint: "run `pk3s catalog update` while online",
      });
    }
    return cached;
  }
  if (meta !== undefined && options.forceRefresh !== true && Date.now() - Date.parse(meta.fetchedAt) < catalogTtlMs()) {
    const cached = await fromCache(source, meta, "cache", options.query);
    if (cached !== undefined) return cached;
  }
  const haveCopy = meta !== undefined && (await readCachedIndex(source.url, meta)) !== undefined;
  const auth = await authForCatalog(source);
  const label = `catalog "${source.name}"`;
  try {
    return await options.transport.fetch(
      {
        url: new URL(source.url),
        label,
        auth,
        etag: haveCopy ? meta?.etag : undefined,
        lastModified: haveCopy ? meta?.lastModified : undefined,
        maxBytes: INDEX_MAX_BYTES,
      },
      async (res) => {
        if (res.notModified && meta !== undefined) {
          const next = await touchMeta(source.url, meta, { etag: res.etag, lastModified: res.lastModified });
          const cached = await fromCache(source, next, "revalidated");
          if (cached !== undefined) return cached;
        }
        const text = await readBody(res.body, INDEX_MAX_BYTES, label);
        const parsed = await parseIndex(source, text); // validate before caching
        const written = await writeFetchedIndex(source.url, text, { etag: res.etag, lastModified: res.lastModified });
        return { source, ...withSource(source, parsed), origin: "network" as const, fetchedAt: written.fetchedAt };
      },
    );
  } catch (err) {
    // A network failure with an older copy at hand: use it, say so. Auth and 404 errors are not hidden.
    if (err instanceof StepFailedError && meta !== undefined) {
      const stale = await fromCache(source, meta, "stale-cache");
      if (stale !== undefined) {
        warn(`${err.message}; using the cached index from ${meta.fetchedAt}`);
        return stale;
      }
    }
    throw err;
  }
}

export async function loadCatalog(source: CatalogSource, options: LoadOptions): Promise<LoadedCatalog> {
  const protocol = new URL(source.url).protocol;
  return protocol === "file:" ? loadFileCatalog(source, options) : loadHttpCatalog(source, options);
}

export function loadCatalogs(sources: readonly CatalogSource[], options: LoadOptions): Promise<LoadedCatalog[]> {
  return Promise.all(sources.map((s) => loadCatalog(s, options)));
}
