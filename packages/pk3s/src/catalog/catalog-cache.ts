/**
 * On-disk cache of catalog indexes: `<cacheDir>/catalogs/<sha256(url)>/`
 * holds `index.yaml` as served, `meta.json` (validators, fetch time, digest
 * of the index) and `entries-<sha256>.json`, the parsed and normalised
 * entries of that exact index, read instead of re-parsing the YAML.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import type { Problem } from "@productive-k3s/pkg-format/errors";
import { cacheDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";

export interface CatalogMeta {
  url: string;
  etag?: string | undefined;
  lastModified?: string | undefined;
  /** ISO time of the last successful fetch or 304 revalidation. */
  fetchedAt: string;
  /** sha256 hex of index.yaml. */
  sha256: string;
}

export interface ParsedIndex {
  sha256: string;
  entries: CatalogEntry[];
  warnings: Problem[];
  generated?: string | undefined;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function catalogCacheDir(url: string): string {
  return join(cacheDir(), "catalogs", sha256Hex(url));
}

export async function readMeta(url: string): Promise<CatalogMeta | undefined> {
  try {
    const meta = await readJsonFile<CatalogMeta>(join(catalogCacheDir(url), "meta.json"));
    return meta?.url === url ? meta : undefined;
  } catch {
    return undefined; // a corrupt cache is just a miss
  }
}

export async function readCachedIndex(url: string, meta: CatalogMeta): Promise<string | undefined> {
  try {
    const text = await readFile(join(catalogCacheDir(url), "index.yaml"), "utf8");
    return sha256Hex(text) === meta.sha256 ? text : undefined;
  } catch {
    return undefined;
  }
}

export async function writeFetchedIndex(
  url: string,
  text: string,
  validators: { etag?: string | undefined; lastModified?: string | undefined },
): Promise<CatalogMeta> {
  const dir = await ensurePrivateDir(catalogCacheDir(url));
  const meta: CatalogMeta = { url, ...validators, fetchedAt: new Date().toISOString(), sha256: sha256Hex(text) };
  await writeFileAtomic(join(dir, "index.yaml"), text);
  await writeJsonAtomic(join(dir, "meta.json"), meta);
  return meta;
}

export async function touchMeta(
  url: string,
  meta: CatalogMeta,
  validators: { etag?: string | undefined; lastModified?: string | undefined },
): Promise<CatalogMeta> {
  const next: CatalogMeta = { ...meta, ...validators, fetchedAt: new Date().toISOString() };
  await writeJsonAtomic(join(catalogCacheDir(url), "meta.json"), next);
  return next;
}

export async function readCompact(url: string, sha256: string): Promise<ParsedIndex | undefined> {
  try {
    const parsed = await readJsonFile<ParsedIndex>(join(catalogCacheDir(url), `entries-${sha256}.json`));
    return parsed?.sha256 === sha256 && Array.isArray(parsed.entries) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function writeCompact(url: string, parsed: ParsedIndex): Promise<void> {
  const dir = await ensurePrivateDir(catalogCacheDir(url));
  const keep = `entries-${parsed.sha256}.json`;
  await writeFileAtomic(join(dir, keep), JSON.stringify(parsed));
  for (const name of await readdir(dir)) {
    if (name.startsWith("entries-") && name.endsWith(".json") && name !== keep) await unlink(join(dir, name)).catch(() => undefined);
  }
}
