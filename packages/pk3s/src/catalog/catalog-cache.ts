/**
 * The on-disk cache of one catalog, `<cacheDir>/catalogs/<sha256(url)>/`:
 * `index.yaml` as served, `meta.json` (validators, fetch time, digest of the
 * index), the parsed entries of that exact index with their lookup file
 * (`entries-file.ts`, `lookup-file.ts`: a search or a lookup by name reads
 * only the lines it needs — 100,000 entries: a few MB scanned instead of a
 * 28 MB parse), and `file-stat.json`, which maps a local index's stat
 * identity to its digest so an unchanged local file is neither re-read nor
 * re-hashed. A sparse read (`sparse-entries.ts`) keeps the shard root and
 * the shards it verified under their digest (`shards/<hex>`, re-hashed when
 * read) and the index's envelope (`sparse-<sha256>.json`). One object per
 * catalog URL: the folder is computed once.
 */
import { readdir, readFile, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import type { IndexEnvelope } from "@productive-k3s/pkg-format/catalog-read";
import { sha256Hex } from "@productive-k3s/pkg-format/digest";
import { cacheDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import type { TrustRecord } from "../trust/catalog-trust.js";
import type { CompactQuery } from "./catalog-query.js";
import { EntriesWriter, type IndexSummary, type ParsedIndex, readEntriesFile } from "./entries-file.js";

export interface CatalogMeta {
  url: string;
  etag?: string | undefined;
  lastModified?: string | undefined;
  /** ISO time of the last successful fetch or 304 revalidation. */
  fetchedAt: string;
  /** sha256 hex of index.yaml. */
  sha256: string;
  /** For a catalog with trusted keys: what was verified about this index (signing key, serial, expiry). */
  trust?: TrustRecord | undefined;
}

/** Identity of a local index file: unchanged device, inode, size and times mean unchanged content. */
export interface FileStatKey {
  key: string;
  sha256: string;
}

export type Validators = { etag?: string | undefined; lastModified?: string | undefined };

export class CatalogCache {
  readonly dir: string;

  constructor(readonly url: string) {
    this.dir = join(cacheDir(), "catalogs", sha256Hex(url));
  }

  private entriesFile(sha256: string): string {
    return join(this.dir, `entries-${sha256}.ndjson`);
  }

  private lookupFile(sha256: string): string {
    return join(this.dir, `lookup-${sha256}.tsv`);
  }

  async readMeta(): Promise<CatalogMeta | undefined> {
    try {
      const meta = await readJsonFile<CatalogMeta>(join(this.dir, "meta.json"));
      return meta?.url === this.url ? meta : undefined;
    } catch {
      return undefined; // a corrupt cache is just a miss
    }
  }

  /** The cached index's bytes, if they are still the ones `meta` describes. */
  async readIndex(meta: CatalogMeta): Promise<Buffer | undefined> {
    try {
      const bytes = await readFile(join(this.dir, "index.yaml"));
      return sha256Hex(bytes) === meta.sha256 ? bytes : undefined;
    } catch {
      return undefined;
    }
  }

  /** Keep the index's bytes (`sha256`: their digest, known to the caller) with what was learnt fetching them. */
  async writeFetchedIndex(bytes: Buffer, sha256: string, validators: Validators, trust?: TrustRecord): Promise<CatalogMeta> {
    await ensurePrivateDir(this.dir);
    const meta: CatalogMeta = { url: this.url, ...validators, fetchedAt: new Date().toISOString(), sha256, trust };
    await writeFileAtomic(join(this.dir, "index.yaml"), bytes);
    await writeJsonAtomic(join(this.dir, "meta.json"), meta);
    return meta;
  }

  /** A 304: the same index, fetched now, with the server's current validators (and its signature checked again). */
  async touchMeta(meta: CatalogMeta, validators: Validators, trust?: TrustRecord): Promise<CatalogMeta> {
    const next: CatalogMeta = { ...meta, ...validators, fetchedAt: new Date().toISOString(), trust };
    await writeJsonAtomic(join(this.dir, "meta.json"), next);
    return next;
  }

  /** The parsed entries of the index with this digest (only those `query` selects), or undefined on a miss. */
  readEntries(sha256: string, query: CompactQuery = {}): Promise<ParsedIndex | undefined> {
    return readEntriesFile(this.entriesFile(sha256), this.lookupFile(sha256), sha256, query);
  }

  /** A writer for the parsed entries of a new index: nothing is visible until `commitEntries`. */
  async entriesWriter(): Promise<{ writer: EntriesWriter; commit: (sha256: string, summary: IndexSummary) => Promise<void> }> {
    await ensurePrivateDir(this.dir);
    // Written under a provisional name, renamed to the index's digest (known only at the end of a streamed index).
    const provisional = `${process.pid}-${Date.now()}`;
    const writer = new EntriesWriter(this.entriesFile(provisional), this.lookupFile(provisional));
    const commit = async (sha256: string, summary: IndexSummary): Promise<void> => {
      writer.commitAs(this.entriesFile(sha256), this.lookupFile(sha256), sha256, summary);
      await this.removeOtherEntries(sha256);
    };
    return { writer, commit };
  }

  async writeEntries(parsed: ParsedIndex): Promise<void> {
    const { writer, commit } = await this.entriesWriter();
    try {
      for (const e of parsed.entries) writer.add(e);
      await commit(parsed.sha256, {
        warnings: parsed.warnings,
        generated: parsed.generated,
        serial: parsed.serial,
        expires: parsed.expires,
      });
    } catch (err) {
      writer.abort();
      throw err;
    }
  }

  /** Entries and lookup files of other indexes (older fetches): removed once a newer pair is in place. */
  private async removeOtherEntries(sha256: string): Promise<void> {
    const keep = new Set([this.entriesFile(sha256), this.lookupFile(sha256)]);
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      const derived = name.startsWith("entries-") || name.startsWith("lookup-") || name.startsWith("sparse-");
      if (derived && !keep.has(path)) await unlink(path).catch(() => undefined);
    }
  }

  private verifiedFile(digest: string): string {
    return join(this.dir, "shards", digest.replace(/^sha256:/, ""));
  }

  /** Bytes kept under their digest (a shard root or a shard), re-hashed: undefined when absent or not these bytes. */
  async readVerified(digest: string): Promise<Buffer | undefined> {
    try {
      const bytes = await readFile(this.verifiedFile(digest));
      return `sha256:${sha256Hex(bytes)}` === digest ? bytes : undefined;
    } catch {
      return undefined;
    }
  }

  /** Keep bytes already checked against `digest`. */
  async writeVerified(digest: string, bytes: Buffer): Promise<void> {
    await ensurePrivateDir(join(this.dir, "shards"));
    await writeFileAtomic(this.verifiedFile(digest), bytes);
  }

  /** The envelope of index `sha256` as a sparse read found it (verified and admitted then), if kept. */
  async readSparseEnvelope(sha256: string): Promise<IndexEnvelope | undefined> {
    try {
      return await readJsonFile<IndexEnvelope>(join(this.dir, `sparse-${sha256}.json`));
    } catch {
      return undefined;
    }
  }

  async writeSparseEnvelope(sha256: string, envelope: IndexEnvelope): Promise<void> {
    await ensurePrivateDir(this.dir);
    await writeJsonAtomic(join(this.dir, `sparse-${sha256}.json`), envelope);
  }

  async readFileStatKey(): Promise<FileStatKey | undefined> {
    try {
      return await readJsonFile<FileStatKey>(join(this.dir, "file-stat.json"));
    } catch {
      return undefined;
    }
  }

  async writeFileStatKey(value: FileStatKey): Promise<void> {
    await ensurePrivateDir(this.dir);
    await writeJsonAtomic(join(this.dir, "file-stat.json"), value);
  }

  /** Forget everything cached for this catalog. */
  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
