/**
 * From an index's bytes to a catalog's resolved entries, for every kind of
 * source: parsed once per digest (then read from the cache), entry URLs made
 * absolute, and a remote catalog kept from pointing pk3s at local files.
 */
import { StringDecoder } from "node:string_decoder";
import type { IndexEnvelope } from "@productive-k3s/pkg-format/catalog-read";
import { warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, type Problem } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { displayUrl, type OriginAuth } from "../fetch/fetcher.js";
import type { Transport } from "../fetch/transport.js";
import type { CatalogTrust, TrustRecord } from "../trust/catalog-trust.js";
import type { CatalogCache } from "./catalog-cache.js";
import { type CompactQuery, selects } from "./catalog-query.js";
import type { CatalogSource } from "./catalog-source.js";
import type { CompanionAccess } from "./companion-entries.js";
import type { AdmittedIndex, IndexSummary, ParsedIndex } from "./entries-file.js";
import { asIndexBytes, type IndexBytes } from "./index-bytes.js";
import type { ResolvedEntry } from "./loaded-catalog.js";
import { loadSlowChecks } from "./slow-checks.js";

export interface IndexReadOptions {
  /** Return only the entries this selects (a cold read still caches every entry). */
  query?: CompactQuery | undefined;
  /** A signed catalog's checks (serial, expiry) on the index as a whole: run before anything is cached; throws to refuse. */
  admit?: ((index: AdmittedIndex) => Promise<void>) | undefined;
  /** Sees every entry of the index (`countOnlyRead`), also those the query leaves out. */
  inspect?: ((entry: CatalogEntry) => void) | undefined;
  /** Where the index came from, to read its entries from its NDJSON companion when it lists one. */
  companions?: CompanionAccess | undefined;
}

/**
 * The entries of an index (its bytes as served, or a local file read in slices: `index-bytes.ts`; never one
 * string of them): from the parsed-entries cache when it has this digest; else from the
 * index's NDJSON companion when it lists one (`companion-entries.ts`: the index is then read for its
 * envelope only); else read line by line (`catalog-read.ts`). Either way they stream straight into the
 * cache, never as a document tree. With a query only the selected entries are returned, so a cold search
 * does not keep 100,000 entries it is about to filter out. A companion that is not found (404) falls back to
 * the entries of the index itself, with a warning: the index is complete on its own, the companion only
 * faster.
 */
export async function parseIndex(cache: CatalogCache, bytes: Buffer | IndexBytes, options: IndexReadOptions = {}): Promise<ParsedIndex> {
  const { query, admit, inspect } = options;
  const index = asIndexBytes(bytes);
  const { sha256 } = index;
  const compact = await cache.readEntries(sha256, inspect === undefined ? query : undefined);
  if (compact !== undefined) {
    await admit?.(compact);
    if (inspect === undefined) return compact;
    for (const e of compact.entries) inspect(e);
    return query === undefined ? compact : { ...compact, entries: compact.entries.filter((e) => selects(query, e)) };
  }
  // The line reader only on a cache miss: a warm search never loads it (nor the fast checks and the companion
  // readers that use it).
  const { CatalogStreamReader, readIndexEnvelope } = await import("@productive-k3s/pkg-format/catalog-read");
  const file = displayUrl(cache.url);
  // The envelope scan only for an index that may list companions (it needs the whole index at once).
  const envelope =
    options.companions === undefined || !index.mayListCompanions ? undefined : companionEnvelope(await index.whole(), readIndexEnvelope);
  // Some names only (not a count-only read, which sees every entry): the shards of those names.
  if (envelope !== undefined && options.companions !== undefined && inspect === undefined && isNamesOnly(query)) {
    const sparse = await sparseRead(cache, envelope, options.companions, query.names, { sha256, admit });
    if (sparse !== undefined) return sparse;
  }
  const selected: CatalogEntry[] = [];
  let total = 0;
  const ingest = async (fill: (add: (e: CatalogEntry) => void) => Promise<IndexSummary | undefined>): Promise<IndexSummary | undefined> => {
    const { writer, commit } = await cache.entriesWriter();
    selected.length = 0;
    try {
      const summary = await fill((e) => {
        writer.add(e);
        inspect?.(e);
        if (query === undefined || selects(query, e)) selected.push(e);
      });
      if (summary === undefined) {
        writer.abort();
        return undefined;
      }
      total = writer.count;
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
  const read =
    (envelope === undefined || options.companions === undefined ? undefined : await fromCompanion(envelope, options.companions, ingest)) ??
    (await ingest(async (add) => {
      const reader = new CatalogStreamReader(file, { skipInvalidEntries: true, onEntry: add, loadSlow: loadSlowChecks });
      // Decoded a slice at a time: the reader streams, and no string of the whole index is made. A local
      // index whose bytes are not those hashed throws after the last slice: before anything is admitted or cached.
      const decoder = new StringDecoder("utf8");
      for await (const slice of index.slices()) await reader.push(decoder.write(slice));
      await reader.push(decoder.end());
      const result = await reader.end();
      return result && { warnings: result.warnings, generated: result.generated, serial: result.serial, expires: result.expires };
    }));
  // A document the line reader cannot split: the whole-document parse decides (and reports).
  const summary =
    read ??
    (await ingest(async (add) => {
      const { parseCatalogDocument } = await import("@productive-k3s/pkg-format/catalog-parse");
      const parsed = parseCatalogDocument((await index.whole()).toString("utf8"), file, { skipInvalidEntries: true });
      for (const e of parsed.entries) add(e);
      return { warnings: parsed.warnings, generated: parsed.generated, serial: parsed.serial, expires: parsed.expires };
    }));
  return {
    sha256,
    entries: [...selected],
    warnings: summary?.warnings ?? [],
    generated: summary?.generated,
    total,
    serial: summary?.serial,
    expires: summary?.expires,
  };
}

/**
 * `parseIndex` for a catalog that may be signed: with `trust`, the index's signature is verified first and its
 * serial and expiry admitted (inside the read, before anything of it is cached), and the admission committed
 * once the read is done; the trust record is returned for the caller's cache. Without, a plain read.
 */
export async function parseTrustedIndex(
  cache: CatalogCache,
  bytes: Buffer | IndexBytes,
  read: Omit<IndexReadOptions, "admit">,
  trust: CatalogTrust | undefined,
  verify: { transport: Transport; auth?: OriginAuth | undefined },
): Promise<{ parsed: ParsedIndex; record?: TrustRecord | undefined }> {
  if (trust === undefined) return { parsed: await parseIndex(cache, bytes, read) };
  const index = asIndexBytes(bytes);
  const keyId = await trust.verifyIndex(index.signed(), verify.transport, verify.auth);
  let record: TrustRecord | undefined;
  const parsed = await parseIndex(cache, index, {
    ...read,
    admit: async (p) => {
      record = await trust.admit(p, keyId);
    },
  });
  if (record === undefined) throw new Error("unreachable: an admitted index has a trust record");
  await trust.commit(record);
  return { parsed, record };
}

/** A query for some names only: what a sparse read can answer. */
export function isNamesOnly(query: CompactQuery | undefined): query is CompactQuery & { names: ReadonlySet<string> } {
  return query?.names !== undefined && query.names.size > 0 && query.needle === undefined;
}

/** The envelope of an index that lists companions (undefined: it lists none, or the line reader cannot tell). */
function companionEnvelope(bytes: Buffer, readIndexEnvelope: (bytes: Buffer) => IndexEnvelope | undefined): IndexEnvelope | undefined {
  const envelope = readIndexEnvelope(bytes);
  return envelope?.companions === undefined ? undefined : envelope;
}

/**
 * The entries of `names` from the shards (`sparse-entries.ts`), after a signed catalog's checks on the index;
 * the envelope is kept with the cache (`sparse-<sha256>.json`) so later reads of the same index need not read
 * it again. Undefined: the index lists no shards, or a shard is missing (with a warning): read it whole.
 */
export async function sparseRead(
  cache: CatalogCache,
  envelope: IndexEnvelope,
  access: CompanionAccess,
  names: ReadonlySet<string>,
  index: { sha256: string; admit?: ((index: AdmittedIndex) => Promise<void>) | undefined },
): Promise<ParsedIndex | undefined> {
  const { generated, serial, expires } = envelope;
  await index.admit?.({ sha256: index.sha256, warnings: [], generated, serial, expires });
  const { readSparse } = await import("./sparse-entries.js");
  let read: Awaited<ReturnType<typeof readSparse>>;
  try {
    read = await readSparse(cache, envelope, access, names);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    warn(`${access.label}: ${err.message}; reading the whole catalog instead`);
    return undefined;
  }
  if (read === undefined) return undefined;
  await cache.writeSparseEnvelope(index.sha256, envelope).catch(() => undefined); // an optimisation only
  return { sha256: index.sha256, entries: read.entries, warnings: read.warnings, generated, serial, expires };
}

/**
 * The entries from the index's NDJSON companion (undefined: it lists none, or it was not found and the
 * index's own entries are to be read).
 */
async function fromCompanion(
  envelope: IndexEnvelope,
  access: CompanionAccess,
  ingest: (fill: (add: (e: CatalogEntry) => void) => Promise<IndexSummary | undefined>) => Promise<IndexSummary | undefined>,
): Promise<IndexSummary | undefined> {
  const { companionUrl, ndjsonCompanion, readNdjsonCompanion } = await import("./companion-entries.js");
  const companion = ndjsonCompanion(envelope);
  if (companion === undefined) return undefined;
  const url = companionUrl(companion, access);
  try {
    return await access.transport.fetch(
      // No maxBytes from the pinned size: more bytes than pinned is a mismatch (exit 6), which the reader says.
      { url, label: `${access.label} companion`, auth: access.auth, expectedBytes: companion.size },
      (res) => ingest((add) => readNdjsonCompanion(companion, url, access, res.body, envelope, add, loadSlowChecks)),
    );
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    warn(`${access.label}: companion ${displayUrl(url)} not found; reading the entries from the index itself (slower)`);
    return undefined;
  }
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
 * Each entry's absolute URL, or the warning that leaves the entry out. A remote catalog may only point at
 * http(s) URLs: an entry that would make pk3s read a local file (`file:`) or use another scheme is left out.
 */
export function entryUrlCheck(source: CatalogSource): (e: CatalogEntry) => string | Problem {
  const remote = !source.url.startsWith("file:");
  const resolveUrl = entryUrlResolver(source.url);
  const baseProtocol = new URL(source.url).protocol;
  return (e) => {
    const url = resolveUrl(e.url);
    // A plain relative path keeps the catalog's own scheme.
    const protocol = typeof url === "string" ? baseProtocol : url?.protocol;
    // oci:// entries are packages in a registry (any catalog may point at one; the registry client does the rest).
    const allowed = protocol === "https:" || protocol === "http:" || protocol === "oci:" || (!remote && protocol === "file:");
    if (url === undefined || !allowed) {
      return {
        file: displayUrl(source.url),
        message: `entry ${e.name}@${e.version}: URL "${e.url}" is not allowed in ${remote ? "a remote" : "this"} catalog (left out)`,
        severity: "warning",
      };
    }
    return url.toString();
  };
}

/** Entries with absolute URLs and their catalog's name (`entryUrlCheck`), the warnings, and how many are usable. */
export function withSource(
  source: CatalogSource,
  parsed: ParsedIndex,
  count?: CountOnlyRead,
): { entries: ResolvedEntry[]; warnings: Problem[]; total?: number | undefined } {
  const check = entryUrlCheck(source);
  const entries: ResolvedEntry[] = [];
  const warnings: Problem[] = [...parsed.warnings, ...(count?.warnings ?? [])];
  for (const e of parsed.entries) {
    const url = check(e);
    if (typeof url === "string") entries.push({ ...e, catalog: source.name, resolvedUrl: url });
    else warnings.push(url);
  }
  // Usable entries: a count-only read kept none, so its count is the index's less those left out.
  const total = count === undefined ? entries.length : (parsed.total ?? 0) - count.warnings.length;
  return { entries, warnings, total };
}

/**
 * A read for `catalog add`/`update`, which report how many entries a catalog has and its warnings but use no
 * entry: nothing is kept (a 100,000-entry catalog held as resolved entries is most of the memory of an add),
 * and each entry's URL is checked as it is read, for the same warnings a full load gives.
 */
export interface CountOnlyRead {
  query: CompactQuery;
  inspect: (e: CatalogEntry) => void;
  warnings: Problem[];
}

export function countOnlyRead(source: CatalogSource): CountOnlyRead {
  const check = entryUrlCheck(source);
  const warnings: Problem[] = [];
  return {
    query: { names: new Set() },
    inspect: (e) => {
      const url = check(e);
      if (typeof url !== "string") warnings.push(url);
    },
    warnings,
  };
}
