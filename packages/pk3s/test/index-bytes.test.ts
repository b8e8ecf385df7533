/**
 * A local index read in slices (`index-bytes.ts`): the slices are the file's bytes, the companions mark is
 * found across a slice boundary, and bytes that change between the hashing pass and the read are refused
 * (exit 6) before anything of them is cached.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CatalogCache } from "../src/catalog/catalog-cache.js";
import { INDEX_SLICE, indexFile } from "../src/catalog/index-bytes.js";
import { parseIndex } from "../src/catalog/indexed-entries.js";

let dir: string;
const savedCacheDir = process.env.PK3S_CACHE_DIR;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pk3s-index-bytes-"));
  process.env.PK3S_CACHE_DIR = join(dir, "cache");
});
afterEach(() => {
  if (savedCacheDir === undefined) delete process.env.PK3S_CACHE_DIR;
  else process.env.PK3S_CACHE_DIR = savedCacheDir;
  rmSync(dir, { recursive: true, force: true });
});

const ZERO = `sha256:${"0".repeat(64)}`;
const entry = (i: number): string =>
  `  - name: pkg-${i}\n    version: 1.0.${i}\n    type: addon\n    url: packages/pkg-${i}.tgz\n    digest: ${ZERO}\n    size: ${i + 1}\n`;
/** A v1 index of `count` entries (~120 bytes each), with `tail` after them. */
const index = (count: number, tail = ""): string =>
  `apiVersion: catalog.productive-k3s.io/v1\nkind: Catalog\nentries:\n${Array.from({ length: count }, (_, i) => entry(i)).join("")}${tail}`;

async function collect(slices: AsyncIterable<Buffer>): Promise<{ bytes: Buffer; sizes: number[] }> {
  const parts: Buffer[] = [];
  for await (const s of slices) parts.push(Buffer.from(s)); // copied: a slice's buffer is reused
  return { bytes: Buffer.concat(parts), sizes: parts.map((p) => p.length) };
}

describe("indexFile", () => {
  it("reads the file in slices of at most INDEX_SLICE bytes, hashed as a whole", async () => {
    const text = Buffer.from(index(2000));
    expect(text.length).toBeGreaterThan(2 * INDEX_SLICE);
    const path = join(dir, "index.yaml");
    writeFileSync(path, text);
    const bytes = await indexFile(path, { signed: false });
    expect(bytes.sha256).toBe(createHash("sha256").update(text).digest("hex"));
    expect(bytes.mayListCompanions).toBe(false);
    const { bytes: read, sizes } = await collect(bytes.slices());
    expect(read.equals(text)).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(INDEX_SLICE);
    expect((await bytes.whole()).equals(text)).toBe(true);
  });

  it("finds `\\ncompanions:` split between two slices, and hashes BLAKE2b-512 for a signature", async () => {
    const head = Buffer.from(index(10));
    // The mark starts 5 bytes before the end of the first slice.
    const padding = `#${"x".repeat(INDEX_SLICE - head.length - 5 - 1)}`;
    const text = Buffer.from(`${head}${padding}\ncompanions: []\n`);
    expect(text.indexOf("\ncompanions:")).toBe(INDEX_SLICE - 5);
    const path = join(dir, "index.yaml");
    writeFileSync(path, text);
    const bytes = await indexFile(path, { signed: true });
    expect(bytes.mayListCompanions).toBe(true);
    expect(bytes.signed()).toMatchObject({ blake2b512: createHash("blake2b512").update(text).digest() });
  });

  it("refuses bytes that changed after they were hashed (exit 6), in slices and whole", async () => {
    const path = join(dir, "index.yaml");
    const text = index(1000);
    writeFileSync(path, text);
    const bytes = await indexFile(path, { signed: false });
    writeFileSync(path, text.replace("pkg-999", "pkg-998")); // same length, other bytes
    const changed = { exitCode: 6, reason: "index-changed", message: expect.stringContaining(`catalog index ${path} changed`) };
    await expect(collect(bytes.slices())).rejects.toMatchObject(changed);
    await expect(bytes.whole()).rejects.toMatchObject(changed);
  });

  it("parseIndex caches nothing of an index that changed while it was read", async () => {
    const path = join(dir, "index.yaml");
    const text = index(3000);
    writeFileSync(path, text);
    const bytes = await indexFile(path, { signed: false });
    writeFileSync(path, text.replace("pkg-2999", "pkg-2998"));
    const cache = new CatalogCache(pathToFileURL(path).href);
    await expect(parseIndex(cache, bytes)).rejects.toMatchObject({ exitCode: 6, reason: "index-changed" });
    const cached = existsSync(cache.dir) ? readdirSync(cache.dir) : [];
    expect(cached).toEqual([]);
    // Unchanged, the same read caches the entries under the index's digest.
    const again = await parseIndex(cache, await indexFile(path, { signed: false }));
    expect(again.total).toBe(3000);
    expect(readdirSync(cache.dir).sort()).toEqual([`entries-${again.sha256}.ndjson`, `lookup-${again.sha256}.tsv`]);
  });
});
