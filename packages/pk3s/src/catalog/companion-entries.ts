/**
 * Reader side of an index's NDJSON companion (`catalog-companions.ts` writes
 * it): fetched through the catalog's transport (same credentials, bound to the
 * catalog's origin), its bytes hashed as they stream and its entries handed on
 * one by one (`NdjsonEntriesReader`), so the text of a 100,000-entry catalog is
 * never held. The companion's digest and size are pinned by the index (whose
 * signature a signed catalog has already checked): a mismatch is an integrity
 * error (exit 6) naming the index and the companion, and the caller caches
 * nothing of it. A broken line in a companion whose digest does not match is
 * reported as the integrity error it is, not as a format problem.
 */
import { createHash } from "node:crypto";
import { NDJSON_COMPANION_FORMAT, NdjsonEntriesReader } from "@productive-k3s/pkg-format/catalog-ndjson";
import type { IndexCompanion, IndexEnvelope } from "@productive-k3s/pkg-format/catalog-read";
import { IntegrityError, UsageError } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { displayUrl, type OriginAuth } from "../fetch/fetcher.js";
import type { Transport } from "../fetch/transport.js";
import type { IndexSummary } from "./entries-file.js";

/** Ceiling for a companion that does not state its size (the index's own limit is 64 MiB). */
const COMPANION_MAX_BYTES = 256 * 1024 * 1024;

/** How to reach an index's companions: the index's own URL, transport and credentials. */
export interface CompanionAccess {
  indexUrl: string;
  transport: Transport;
  auth?: OriginAuth | undefined;
  label: string;
}

/** The NDJSON companion an envelope lists, if any. */
export function ndjsonCompanion(envelope: IndexEnvelope | undefined): IndexCompanion | undefined {
  return envelope?.companions?.find((c) => c.format === NDJSON_COMPANION_FORMAT);
}

/**
 * A companion's absolute URL. Relative to the index; a remote index may only point at http(s) (never at a
 * local file), a local one at files or http(s).
 */
export function companionUrl(companion: IndexCompanion, access: CompanionAccess): URL {
  const base = new URL(access.indexUrl);
  let url: URL;
  try {
    url = new URL(companion.url, base);
  } catch {
    url = new URL("invalid:");
  }
  const remote = base.protocol !== "file:";
  const allowed = url.protocol === "https:" || url.protocol === "http:" || (!remote && url.protocol === "file:");
  if (!allowed) {
    throw new UsageError(`${access.label}: companion URL "${companion.url}" is not allowed in ${remote ? "a remote" : "this"} catalog`, {
      where: displayUrl(access.indexUrl),
      hint: "a companion is an http(s) URL or a path relative to the index",
    });
  }
  return url;
}

function companionMismatch(access: CompanionAccess, url: URL, what: string): IntegrityError {
  return new IntegrityError(
    "companion-digest-mismatch",
    `${access.label}: companion ${displayUrl(url)} does not match the index: ${what}`,
    {
      where: displayUrl(access.indexUrl),
      hint: "the companion was changed or cut short after the index was published; nothing of it was cached (the publisher must republish with pk3s catalog index)",
    },
  );
}

/**
 * The check of bytes pinned by digest (and size, when given) as they stream: more bytes than allowed stops the
 * read at once, and `verify()` at the end compares digest and size. Every mismatch is `companionMismatch`.
 */
export class PinnedBytes {
  private readonly hash = createHash("sha256");
  private readonly max: number;
  size = 0;

  constructor(
    private readonly pinned: { digest: string; size?: number | undefined },
    private readonly access: CompanionAccess,
    private readonly url: URL,
    ceiling: number,
    /** Who pins these bytes, for the message: the index, or the shard root. */
    private readonly pinnedBy = "the index",
  ) {
    this.max = pinned.size ?? ceiling;
  }

  update(chunk: Uint8Array): void {
    this.size += chunk.byteLength;
    if (this.size > this.max) throw companionMismatch(this.access, this.url, `more than the ${this.max} bytes it should have`);
    this.hash.update(chunk);
  }

  verify(): void {
    const digest = `sha256:${this.hash.digest("hex")}`;
    if (digest !== this.pinned.digest)
      throw companionMismatch(this.access, this.url, `its digest is ${digest}, ${this.pinnedBy} pins ${this.pinned.digest}`);
    if (this.pinned.size !== undefined && this.size !== this.pinned.size)
      throw companionMismatch(this.access, this.url, `${this.size} bytes, ${this.pinnedBy} says ${this.pinned.size}`);
  }
}

/**
 * Read the NDJSON companion into `add`, entry by entry, checking its digest as the bytes arrive; the summary
 * of the index (the envelope's `generated`, serial, expiry; the entries' warnings). Called once per attempt
 * of the fetch: the caller gives a fresh `add` each time (a retried body starts again from the first entry).
 */
export async function readNdjsonCompanion(
  companion: IndexCompanion,
  url: URL,
  access: CompanionAccess,
  body: AsyncIterable<Uint8Array>,
  envelope: IndexEnvelope,
  add: (entry: CatalogEntry) => void,
  loadSlow: () => Promise<import("@productive-k3s/pkg-format/catalog-read").SlowCatalogChecks>,
): Promise<IndexSummary> {
  const pinned = new PinnedBytes(companion, access, url, COMPANION_MAX_BYTES);
  const reader = new NdjsonEntriesReader(displayUrl(url), { skipInvalidEntries: true, onEntry: add, loadSlow });
  let failure: unknown;
  for await (const chunk of body) {
    pinned.update(chunk);
    if (failure !== undefined) continue; // keep hashing: a tampered file is an integrity error, not a format one
    try {
      await reader.push(chunk);
    } catch (err) {
      failure = err;
    }
  }
  pinned.verify();
  if (failure !== undefined) throw failure;
  const read = await reader.end();
  return { warnings: read.warnings, generated: envelope.generated, serial: envelope.serial, expires: envelope.expires };
}
