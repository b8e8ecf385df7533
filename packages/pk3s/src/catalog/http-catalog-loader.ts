/**
 * HTTP(S) catalogs: from the cache while it is younger than the TTL
 * (PK3S_CATALOG_TTL seconds, default 600), revalidated with a conditional GET
 * otherwise; `--offline` never touches the network; a network failure with an
 * older copy at hand falls back to it, with a warning. A catalog with trusted
 * keys (`trust/catalog-trust.ts`) has every fetched index verified before it
 * is cached, and every cached one re-checked before it is used.
 */
import { warn } from "@productive-k3s/pkg-format/cli";
import { type IntegrityError, NotFoundError, StepFailedError, UsageError } from "@productive-k3s/pkg-format/errors";
import { displayUrl } from "../fetch/fetcher.js";
import { CatalogTrust, type TrustRecord } from "../trust/catalog-trust.js";
import type { CatalogCache, CatalogMeta } from "./catalog-cache.js";
import type { CompactQuery } from "./catalog-query.js";
import type { CatalogSource } from "./catalog-source.js";
import type { CompanionAccess } from "./companion-entries.js";
import { authForCatalog } from "./credentials.js";
import type { ParsedIndex } from "./entries-file.js";
import { countOnlyRead, isNamesOnly, parseIndex, parseTrustedIndex, sparseRead, withSource } from "./indexed-entries.js";
import type { CatalogLoader, LoadedCatalog } from "./loaded-catalog.js";

const INDEX_MAX_BYTES = 64 * 1024 * 1024;

export function catalogTtlMs(): number {
  const raw = process.env.PK3S_CATALOG_TTL;
  if (raw === undefined || raw === "") return 600_000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`PK3S_CATALOG_TTL must be a number of seconds >= 0, got "${raw}"`);
  return n * 1000;
}

/**
 * The body's bytes, copied as they arrive into one buffer sized by Content-Length (grown when the server
 * did not say or said too little): a 30 MB index is held once, not as chunks and then their concatenation.
 */
async function readBody(body: AsyncIterable<Uint8Array>, max: number, label: string, size: number | undefined): Promise<Buffer> {
  let buf = Buffer.allocUnsafe(Math.min(size ?? 1 << 20, max));
  let total = 0;
  for await (const chunk of body) {
    if (total + chunk.byteLength > max) throw new StepFailedError(`${label}: index larger than ${max} bytes`);
    if (total + chunk.byteLength > buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(max, Math.max(buf.length * 2, total + chunk.byteLength)));
      buf.copy(grown, 0, 0, total);
      buf = grown;
    }
    buf.set(chunk, total);
    total += chunk.byteLength;
  }
  return buf.subarray(0, total);
}

export async function fromCache(
  source: CatalogSource,
  cache: CatalogCache,
  meta: CatalogMeta,
  origin: LoadedCatalog["origin"],
  query?: CompactQuery,
  companions?: CompanionAccess,
): Promise<LoadedCatalog | undefined> {
  // The parsed entries are keyed by the index's digest; the index text is read only when they are missing.
  let parsed = await cache.readEntries(meta.sha256, query);
  if (parsed === undefined && companions !== undefined && isNamesOnly(query)) {
    // An index read sparsely before: its shards again, without reading the index.
    const envelope = await cache.readSparseEnvelope(meta.sha256);
    if (envelope !== undefined) parsed = await sparseRead(cache, envelope, companions, query.names, { sha256: meta.sha256 });
  }
  if (parsed === undefined) {
    const text = await cache.readIndex(meta);
    if (text === undefined) return undefined;
    parsed = await parseIndex(cache, text, { query, companions });
  }
  return { source, ...withSource(source, parsed), origin, fetchedAt: meta.fetchedAt };
}

/**
 * The cached copy when it may be used without the network: present, and for a catalog with trusted keys
 * still admissible (trusted key, not expired, not below the serial accepted since). `refusal` is why not.
 */
async function usableCache(
  source: CatalogSource,
  cache: CatalogCache,
  meta: CatalogMeta | undefined,
  trust: CatalogTrust | undefined,
  origin: LoadedCatalog["origin"],
  query?: CompactQuery,
  companions?: CompanionAccess,
): Promise<{ loaded?: LoadedCatalog; refusal?: IntegrityError }> {
  if (meta === undefined) return {};
  const refusal = await trust?.cachedProblem(meta.trust, meta.sha256);
  if (refusal !== undefined) return { refusal };
  return { loaded: await fromCache(source, cache, meta, origin, query, companions) };
}

/**
 * A network failure (`StepFailedError`) with an older copy at hand: use it, say so (a signed catalog's copy only
 * while still admissible). Auth, 404 and integrity errors are not hidden: they are thrown again, as is a failure
 * with nothing cached.
 */
export async function staleOrThrow(
  err: unknown,
  source: CatalogSource,
  cache: CatalogCache,
  meta: CatalogMeta | undefined,
  trust?: CatalogTrust,
): Promise<LoadedCatalog> {
  if (err instanceof StepFailedError && meta !== undefined) {
    const stale = await usableCache(source, cache, meta, trust, "stale-cache");
    if (stale.loaded !== undefined) {
      warn(`${err.message}; using the cached index from ${meta.fetchedAt}`);
      return stale.loaded;
    }
  }
  throw err;
}

export const loadHttpCatalog: CatalogLoader = async (source, cache, options) => {
  const meta = await cache.readMeta();
  const trust = await CatalogTrust.of(source);
  if (options.offline) {
    const cached = await usableCache(source, cache, meta, trust, "cache", options.query);
    if (cached.refusal !== undefined) throw cached.refusal;
    if (cached.loaded === undefined) {
      throw new NotFoundError(`catalog "${source.name}" has no cached index and --offline forbids the network`, {
        where: displayUrl(source.url),
        hint: "run `pk3s catalog update` while online",
      });
    }
    return cached.loaded;
  }
  const auth = await authForCatalog(source);
  const label = `catalog "${source.name}"`;
  const companions: CompanionAccess = { indexUrl: source.url, transport: options.transport, auth, label };
  if (meta !== undefined && options.forceRefresh !== true && Date.now() - Date.parse(meta.fetchedAt) < catalogTtlMs()) {
    const cached = await usableCache(source, cache, meta, trust, "cache", options.query, companions);
    if (cached.loaded !== undefined) return cached.loaded;
  }
  const haveCopy = meta !== undefined && (await cache.readIndex(meta)) !== undefined;
  /** A signed catalog: the signature of `text` verified, then serial and expiry, before anything is cached. */
  const count = options.countOnly === true ? countOnlyRead(source) : undefined;
  const admitted = (text: Buffer, query?: CompactQuery): Promise<{ parsed: ParsedIndex; record?: TrustRecord | undefined }> =>
    parseTrustedIndex(cache, text, { query, companions, inspect: count?.inspect }, trust, { transport: options.transport, auth });
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
          // Unchanged index: a signed catalog checks it again (its signature may have been re-made, its expiry passed).
          const text = trust === undefined ? undefined : await cache.readIndex(meta);
          const record = text === undefined ? undefined : (await admitted(text)).record;
          const next = await cache.touchMeta(meta, { etag: res.etag, lastModified: res.lastModified }, record);
          const cached = await fromCache(source, cache, next, "revalidated");
          if (cached !== undefined) return cached;
        }
        const text = await readBody(res.body, INDEX_MAX_BYTES, label, res.size);
        const { parsed, record } = await admitted(text, count?.query ?? options.query); // validated (and verified) before caching
        const written = await cache.writeFetchedIndex(text, parsed.sha256, { etag: res.etag, lastModified: res.lastModified }, record);
        return { source, ...withSource(source, parsed, count), origin: "network" as const, fetchedAt: written.fetchedAt };
      },
    );
  } catch (err) {
    return staleOrThrow(err, source, cache, meta, trust);
  }
};
