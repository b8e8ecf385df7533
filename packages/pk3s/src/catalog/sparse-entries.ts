/**
 * Sparse reads of a catalog with a sharded companion (`catalog-shards.ts`), the way Cargo's sparse index
 * fetches only the crates a resolution reaches: a command that needs some names only (show, pull, install
 * and its dependencies, stack resolution) with no parsed entries cached reads the index's envelope (the index
 * itself fetched and, for a signed catalog, verified and admitted as for any read: serial, expiry, rollback),
 * the shard root its `companions` pin by digest, and the shards of those names, each pinned by the root. The
 * root and the shards are kept in the catalog's cache under their digest (`shards/<hex>`), re-hashed when
 * read, so a later layer of dependencies, or a later command, fetches only shards it has not seen. Nothing
 * of a root or shard whose digest does not match is kept (exit 6). A full read (search, `catalog add`,
 * `update`) still ingests the whole catalog from the NDJSON companion.
 */
import { NdjsonEntriesReader } from "@productive-k3s/pkg-format/catalog-ndjson";
import type { IndexCompanion, IndexEnvelope } from "@productive-k3s/pkg-format/catalog-read";
import { parseShardRoot, SHARDS_COMPANION_FORMAT, shardFileName, shardKey } from "@productive-k3s/pkg-format/catalog-shards";
import type { Problem } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { displayUrl } from "../fetch/fetcher.js";
import type { CatalogCache } from "./catalog-cache.js";
import { type CompanionAccess, companionUrl, PinnedBytes } from "./companion-entries.js";
import { loadSlowChecks } from "./slow-checks.js";

/** Ceiling for a root or a shard that the index or root does not size. */
const SHARD_MAX_BYTES = 64 * 1024 * 1024;

/** The shard root an envelope lists, if any. */
export function shardsCompanion(envelope: IndexEnvelope | undefined): IndexCompanion | undefined {
  return envelope?.companions?.find((c) => c.format === SHARDS_COMPANION_FORMAT);
}

/** The bytes with this digest: from the cache (re-hashed), else fetched, checked as they stream, then cached. */
async function verifiedBytes(
  cache: CatalogCache,
  pinned: { digest: string; size?: number | undefined },
  url: URL,
  access: CompanionAccess,
  pinnedBy: string,
): Promise<Buffer> {
  const cached = await cache.readVerified(pinned.digest);
  if (cached !== undefined) return cached;
  // The transport's ceiling is the generous one: more bytes than pinned is a mismatch (exit 6), said below.
  const bytes = await access.transport.fetch(
    { url, label: `${access.label} shard`, auth: access.auth, maxBytes: SHARD_MAX_BYTES, expectedBytes: pinned.size },
    async (res) => {
      const check = new PinnedBytes(pinned, access, url, SHARD_MAX_BYTES, pinnedBy);
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) {
        check.update(chunk);
        chunks.push(Buffer.from(chunk));
      }
      check.verify();
      return Buffer.concat(chunks, check.size);
    },
  );
  await cache.writeVerified(pinned.digest, bytes).catch(() => undefined); // the cache is an optimisation only
  return bytes;
}

/**
 * The entries named `names` from the shards (undefined when the index lists no shard root). Throws
 * NotFoundError when the root or a shard is missing (the caller then reads the whole catalog).
 */
export async function readSparse(
  cache: CatalogCache,
  envelope: IndexEnvelope,
  access: CompanionAccess,
  names: ReadonlySet<string>,
): Promise<{ entries: CatalogEntry[]; warnings: Problem[] } | undefined> {
  const rootRef = shardsCompanion(envelope);
  if (rootRef === undefined) return undefined;
  const rootUrl = companionUrl(rootRef, access);
  const root = parseShardRoot((await verifiedBytes(cache, rootRef, rootUrl, access, "the index")).toString("utf8"), displayUrl(rootUrl));
  const keys = new Set([...names].map((n) => shardKey(n, root.prefix)));
  const entries: CatalogEntry[] = [];
  const warnings: Problem[] = [];
  await Promise.all(
    [...keys].map(async (key) => {
      const info = root.shards[key];
      if (info === undefined) return; // no entry of these names
      const url = new URL(shardFileName(key), rootUrl);
      const bytes = await verifiedBytes(cache, info, url, access, "the shard root");
      const reader = new NdjsonEntriesReader(displayUrl(url), {
        skipInvalidEntries: true,
        onEntry: (e) => {
          if (names.has(e.name)) entries.push(e);
        },
        loadSlow: loadSlowChecks,
      });
      await reader.push(bytes);
      warnings.push(...(await reader.end()).warnings);
    }),
  );
  return { entries, warnings };
}
