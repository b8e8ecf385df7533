/**
 * The parsed-entries cache: a search reads only the lines that can match, and
 * must find exactly what a full scan finds; a local index is re-read when it
 * changes (stat identity), never served stale.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readCompact, writeCompact } from "../src/catalog/catalog-cache.js";
import { pkg, writeLocalCatalog } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";

const entry = (name: string, description: string, category = "misc"): CatalogEntry =>
  ({ name, version: "1.0.0", type: "addon", url: `p/${name}.tgz`, description, category }) as CatalogEntry;

const ENTRIES = [
  entry("longhorn", "Distributed block storage", "storage"),
  entry("cert-manager", "TLS certificates", "security"),
  entry("Ünïcode-tool", 'İstanbul edition with quotes "inside"'),
  entry("plain", "nothing to see"),
];

describe("readCompact with a needle", () => {
  let dir: string;
  const url = "https://catalog.example.com/index.yaml";
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "pk3s-cache-"));
    process.env.PK3S_CACHE_DIR = dir;
    await writeCompact(url, { sha256: "a".repeat(64), entries: ENTRIES, warnings: [], generated: "2026-11-21T00:00:00Z" });
  });
  afterEach(() => {
    delete process.env.PK3S_CACHE_DIR;
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["longhorn", ["longhorn"]],
    ["STORAGE".toLowerCase(), ["longhorn"]],
    ["cert", ["cert-manager"]],
    ["istanbul", []], // İ lower-cases to two code units: the full-scan path must still run, and 'i̇stanbul' ≠ 'istanbul'
    ['"inside"', ["Ünïcode-tool"]], // JSON-escaped in the file: found through the full-scan path
    ["ünïcode", ["Ünïcode-tool"]],
    ["zzz", []],
  ])("needle %j is a superset prefilter of the fields search checks", async (needle, expected) => {
    const got = await readCompact(url, "a".repeat(64), { needle });
    expect(got).toBeDefined();
    const names = (got?.entries ?? []).map((e) => e.name);
    for (const name of expected) expect(names).toContain(name);
    const full = await readCompact(url, "a".repeat(64));
    expect(full?.entries).toEqual(ENTRIES);
  });

  it("is a miss for another digest or a corrupt file", async () => {
    expect(await readCompact(url, "b".repeat(64))).toBeUndefined();
  });
});

describe("local catalogs and the cache", () => {
  let sb: Sandbox;
  beforeEach(() => {
    sb = sandbox();
  });
  afterEach(() => sb.cleanup());

  it("a changed local index is re-read (never served from a stale cache)", async () => {
    const index = writeLocalCatalog(join(sb.root, "cat"), [pkg("alpha", "1.0.0")]);
    await sb.run(["catalog", "add", "cat", index]);
    expect(JSON.parse((await sb.run(["search", "--json"])).stdout).results.map((r: { name: string }) => r.name)).toEqual(["alpha"]);
    expect(JSON.parse((await sb.run(["search", "alp", "--json"])).stdout).results).toHaveLength(1);
    writeLocalCatalog(join(sb.root, "cat"), [pkg("alpha", "1.0.0"), pkg("beta", "2.0.0")]);
    const after = JSON.parse((await sb.run(["search", "--json"])).stdout).results.map((r: { name: string }) => r.name);
    expect(after).toEqual(["alpha", "beta"]);
    expect(JSON.parse((await sb.run(["search", "bet", "--json"])).stdout).results.map((r: { name: string }) => r.name)).toEqual(["beta"]);
    writeFileSync(index, "apiVersion: catalog.productive-k3s.io/v1\nkind: Catalog\nentries: []\n");
    expect(JSON.parse((await sb.run(["search", "--json"])).stdout).results).toEqual([]);
  });
});
