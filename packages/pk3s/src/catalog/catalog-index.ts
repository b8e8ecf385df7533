/**
 * Publisher side: `pk3s catalog index <dir>` builds a v1 catalog from a
 * folder of packages (like `helm repo index`): each `.tgz` is inspected
 * (manifest read from the stream, digest and size computed) and becomes one
 * entry. `--merge` keeps the entries of an existing index that the folder
 * does not provide; `--base-url` makes the entry URLs absolute.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { writeFileAtomic } from "@productive-k3s/pkg-format/atomic";
import { parseCatalog } from "@productive-k3s/pkg-format/catalog-parse";
import { NotFoundError, UsageError } from "@productive-k3s/pkg-format/errors";
import { inspectPackage } from "@productive-k3s/pkg-format/inspect";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { stringify } from "yaml";
import { entryFieldsFromManifest } from "./manifest-entry.js";
import { sortVersionsDesc } from "./resolve.js";

export interface IndexInput {
  dir: string;
  baseUrl?: string | undefined;
  merge?: string | undefined;
  out?: string | undefined;
  /** Fixed `generated` time (tests, reproducible builds); default SOURCE_DATE_EPOCH or now. */
  now?: Date | undefined;
}

export interface IndexResult {
  out: string;
  entries: number;
  added: number;
  merged: number;
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
  const entries: CatalogEntry[] = [];
  const seen = new Map<string, string>();
  for (const file of await listPackageFiles(dir)) {
    const inspected = await inspectPackage(file);
    const entry = entryFieldsFromManifest(inspected.kind, inspected.manifest, {
      url: entryUrl(file, dirname(out), input.baseUrl, dir),
      digest: inspected.digest,
      size: inspected.size,
    });
    const key = `${inspected.kind}/${entry.name}@${entry.version}`;
    const previous = seen.get(key);
    if (previous !== undefined)
      throw new UsageError(`${key} is in both ${previous} and ${file}`, { hint: "keep one file per package version" });
    seen.set(key, file);
    entries.push(entry);
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
      if (seen.has(`${e.type}/${e.name}@${e.version}`)) continue;
      entries.push(e);
      merged++;
    }
  }
  const byName = new Map<string, CatalogEntry[]>();
  for (const e of entries) byName.set(`${e.type}\u0000${e.name}`, [...(byName.get(`${e.type}\u0000${e.name}`) ?? []), e]);
  const sorted = [...byName.keys()].sort().flatMap((k) => sortVersionsDesc(byName.get(k)!));
  const doc = { apiVersion: "catalog.productive-k3s.io/v1", kind: "Catalog", generated: generatedAt(input.now), entries: sorted };
  await writeFileAtomic(out, stringify(doc, { lineWidth: 0 }), { mode: 0o644 });
  return { out, entries: sorted.length, added, merged };
}
