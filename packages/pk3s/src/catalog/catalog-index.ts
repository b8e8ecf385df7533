/**
 * Publisher side: `pk3s catalog index <dir>` builds a v1 catalog from a
 * folder of packages (like `helm repo index`): each `.tgz` is inspected
 * (manifest read from the stream, digest and size computed) and becomes one
 * entry. `--merge` keeps the entries of an existing index that the folder
 * does not provide; `--base-url` makes the entry URLs absolute. The previous
 * index at the output path lends its serial (the next one is one more) and
 * the publisher metadata of entries whose bytes did not change. With a
 * signing key (`--sign-key`, PK3S_SIGNING_KEY) every package in the folder
 * and then the index are signed (`index-signing.ts`). The index is published
 * with its companions, the same entries as NDJSON and as shards
 * (`catalog-companions.ts`), which its digests (and signature) cover.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { type ParsedCatalog, parseCatalog } from "@productive-k3s/pkg-format/catalog-parse";
import { warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import type { SigningKeyInput } from "../trust/signing-key.js";
import { mapBounded } from "./bounded-map.js";
import { publishIndex } from "./catalog-companions.js";
import { expiresInMs, publicationFields, publisherKey, signPackage } from "./index-signing.js";
import { entryId, readPackageEntries } from "./package-entries.js";
import { sortVersionsDesc } from "./resolve.js";

/** Package signatures written at once. */
const SIGNING_IN_FLIGHT = 16;

export interface EntryMetadata {
  maintainers?: string[] | undefined;
  license?: string | undefined;
  homepage?: string | undefined;
  source?: string | undefined;
}

export interface IndexInput extends SigningKeyInput, EntryMetadata {
  dir: string;
  baseUrl?: string | undefined;
  merge?: string | undefined;
  out?: string | undefined;
  /** Fixed `generated` time (tests, reproducible builds); default SOURCE_DATE_EPOCH or now. */
  now?: Date | undefined;
  /** The index's serial (default: the previous index's + 1); written when signing or when given. */
  serial?: number | undefined;
  /** How long the index stays valid (default 30d); written when signing or when given. */
  expiresIn?: string | undefined;
}

export interface IndexResult {
  out: string;
  entries: number;
  added: number;
  merged: number;
  serial?: number | undefined;
  expires?: string | undefined;
  /** With a signing key: its id, and how many package signatures were (re)written. */
  signed?: { keyId: string; packagesSigned: number; signature: string } | undefined;
}

export async function listPackageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && !e.name.startsWith(".")) await walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith(".tgz")) out.push(p);
    }
  };
  try {
    await walk(dir, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new NotFoundError(`folder not found: ${dir}`, { where: dir, hint: "pass the folder that holds the .tgz packages" });
    throw err;
  }
  return out.sort();
}

function generatedAt(now: Date | undefined): string {
  if (now !== undefined) return now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const d = epoch !== undefined && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date();
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function entryUrl(file: string, outDir: string, baseUrl: string | undefined, dir: string): string {
  if (baseUrl !== undefined) {
    const rel = relative(dir, file).split(sep).map(encodeURIComponent).join("/");
    return new URL(rel, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).toString();
  }
  return relative(outDir, file).split(sep).map(encodeURIComponent).join("/");
}

/** The index already at `out`, if any (an unreadable one is replaced, with a warning). */
async function previousIndex(out: string): Promise<ParsedCatalog | undefined> {
  const text = await readFile(out, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return parseCatalog(text, out, { skipInvalidEntries: true });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    warn(`${out} is not a valid index; it is replaced, and its serial and metadata are not carried over`);
    return undefined;
  }
}

/** The publisher metadata of an entry: the flags of this run, else what the unchanged entry had before. */
function metadataFor(input: EntryMetadata, before: CatalogEntry | undefined, created: string): Partial<CatalogEntry> {
  const maintainers = input.maintainers !== undefined && input.maintainers.length > 0 ? input.maintainers : before?.maintainers;
  const license = input.license ?? before?.license;
  const homepage = input.homepage ?? before?.homepage;
  const source = input.source ?? before?.source;
  return {
    ...(maintainers === undefined ? {} : { maintainers }),
    ...(license === undefined ? {} : { license }),
    ...(homepage === undefined ? {} : { homepage }),
    ...(source === undefined ? {} : { source }),
    created: before?.created ?? created,
  };
}

export async function buildCatalogIndex(input: IndexInput): Promise<IndexResult> {
  const dir = resolve(input.dir);
  const out = resolve(input.out ?? join(dir, "index.yaml"));
  if (input.baseUrl !== undefined) {
    try {
      const u = new URL(input.baseUrl);
      if (u.protocol !== "https:" && u.protocol !== "http:" && u.protocol !== "file:") throw new Error("scheme");
    } catch {
      throw new UsageError(`--base-url must be an absolute http(s):// or file:// URL, got "${input.baseUrl}"`);
    }
  }
  if (input.expiresIn !== undefined) expiresInMs(input.expiresIn); // usage errors first
  // The key (and its passphrase) before anything is written: a wrong passphrase leaves the folder as it was.
  const signingKey = await publisherKey(input);
  const previous = await previousIndex(out);
  const before = new Map((previous?.entries ?? []).map((e) => [entryId(e), e]));
  const generated = generatedAt(input.now);
  const files = await listPackageFiles(dir);
  const read = await readPackageEntries(
    files,
    (file) => entryUrl(file, dirname(out), input.baseUrl, dir),
    new Map((previous?.entries ?? []).map((e) => [e.url, e])),
  );
  const entries: CatalogEntry[] = [];
  const seen = new Set<string>();
  const unchanged = new Map<string, boolean>();
  for (const { file, entry: base } of read) {
    const id = entryId(base);
    seen.add(id);
    const old = before.get(id);
    const same = old?.digest === base.digest ? old : undefined;
    unchanged.set(file, same !== undefined);
    entries.push({ ...base, ...metadataFor(input, same, generated) });
  }
  const added = entries.length;
  let merged = 0;
  if (input.merge !== undefined) {
    let text: string;
    try {
      text = await readFile(input.merge, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT")
        throw new NotFoundError(`--merge index not found: ${input.merge}`, { where: input.merge });
      throw err;
    }
    for (const e of parseCatalog(text, input.merge).entries) {
      if (seen.has(entryId(e))) continue;
      entries.push(e);
      merged++;
    }
  }
  const byName = new Map<string, CatalogEntry[]>();
  for (const e of entries) byName.set(`${e.type}\u0000${e.name}`, [...(byName.get(`${e.type}\u0000${e.name}`) ?? []), e]);
  const sorted = [...byName.keys()].sort().flatMap((k) => sortVersionsDesc(byName.get(k)!));
  // Expiry counts from the real time of publication (SOURCE_DATE_EPOCH may be long past).
  const versioned = signingKey !== undefined || input.serial !== undefined || input.expiresIn !== undefined;
  const fields = versioned ? publicationFields(previous?.serial, input) : undefined;
  let packagesSigned = 0;
  if (signingKey !== undefined) {
    // Packages first: once the new index is visible, every package it lists is already signed.
    // Several at once: each signature is an fsync'd atomic write, and 2,000 of them one after the other
    // spent ten times as long waiting for the disk as indexing took.
    const written = await mapBounded([...unchanged], SIGNING_IN_FLIGHT, ([file, same]) => signPackage(file, signingKey, same));
    packagesSigned = written.filter(Boolean).length;
  }
  await publishIndex(out, { apiVersion: "catalog.productive-k3s.io/v1", kind: "Catalog", generated, ...fields }, sorted, signingKey);
  const result: IndexResult = { out, entries: sorted.length, added, merged, serial: fields?.serial, expires: fields?.expires };
  if (signingKey === undefined) return result;
  const { publicKeyOf } = await import("@productive-k3s/pkg-format/minisign");
  return { ...result, signed: { keyId: publicKeyOf(signingKey).id, packagesSigned, signature: `${out}.minisig` } };
}
