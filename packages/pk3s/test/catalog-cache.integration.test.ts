/**
 * The parsed-entries cache: a search reads only the lines that can match, and
 * must find exactly what a full scan finds; a local index is re-read when it
 * changes (stat identity), never served stale.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CatalogCache } from "../src/catalog/catalog-cache.js";
import type { CompactQuery } from "../src/catalog/catalog-query.js";
import type { LoadedCatalog, ResolvedEntry } from "../src/catalog/loaded-catalog.js";
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

describe("CatalogCache.readEntries with a needle", () => {
  let dir: string;
  const url = "https://catalog.example.com/index.yaml";
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "pk3s-cache-"));
    process.env.PK3S_CACHE_DIR = dir;
    await new CatalogCache(url).writeEntries({ sha256: "a".repeat(64), entries: ENTRIES, warnings: [], generated: "2026-11-21T00:00:00Z" });
  });
  afterEach(() => {
    delete process.env.PK3S_CACHE_DIR;
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["longhorn", ["longhorn"]],
    ["STORAGE".toLowerCase(), ["longhorn"]],
    ["cert", ["cert-manager"]],
    ["istanbul", []], // İ lower-cases to two code units, as in search's own check: 'i̇stanbul' ≠ 'istanbul'
    ['"inside"', ["Ünïcode-tool"]], // JSON-escaped in the entries file, plain in the lookup
    ["ünïcode", ["Ünïcode-tool"]],
    ["zzz", []],
  ])("needle %j is a superset prefilter of the fields search checks", async (needle, expected) => {
    const got = await new CatalogCache(url).readEntries("a".repeat(64), { needle });
    expect(got).toBeDefined();
    const names = (got?.entries ?? []).map((e) => e.name);
    for (const name of expected) expect(names).toContain(name);
    const full = await new CatalogCache(url).readEntries("a".repeat(64));
    expect(full?.entries).toEqual(ENTRIES);
  });

  it("is a miss for another digest or a corrupt file", async () => {
    expect(await new CatalogCache(url).readEntries("b".repeat(64))).toBeUndefined();
  });

  it("a needle with a tab or line break takes the full path and still finds its entry", async () => {
    const tabbed = [entry("tabby", "one\ttwo"), entry("other", "one two")];
    await new CatalogCache(url).writeEntries({ sha256: "e".repeat(64), entries: tabbed, warnings: [] });
    expect((await new CatalogCache(url).readEntries("e".repeat(64), { needle: "one\ttwo" }))?.entries.map((e) => e.name)).toEqual([
      "tabby",
    ]);
    // The lookup holds the tab as a space: a superset, which search's own field check narrows.
    expect((await new CatalogCache(url).readEntries("e".repeat(64), { needle: "one two" }))?.entries.map((e) => e.name)).toContain("other");
  });

  it("selects by exact name, and a needle matches the searched fields only (not the offsets or the URL)", async () => {
    const byName = await new CatalogCache(url).readEntries("a".repeat(64), { names: new Set(["plain", "cert-manager", "nope"]) });
    expect(byName?.entries.map((e) => e.name).sort()).toEqual(["cert-manager", "plain"]);
    expect(byName?.generated).toBe("2026-11-21T00:00:00Z");
    expect((await new CatalogCache(url).readEntries("a".repeat(64), { needle: "p/" }))?.entries).toEqual([]); // only in the URL
    expect((await new CatalogCache(url).readEntries("a".repeat(64), { needle: "1" }))?.entries).toEqual([]); // only in offsets and versions
    const both = await new CatalogCache(url).readEntries("a".repeat(64), { needle: "storage", names: new Set(["cert-manager"]) });
    expect(both?.entries).toEqual([]);
  });

  it("the lookup file holds the searched fields lowercased, one line per entry, pointing at its entry line", () => {
    const dir = new CatalogCache(url).dir;
    const lookup = readFileSync(join(dir, `lookup-${"a".repeat(64)}.tsv`), "utf8").split("\n");
    const entries = readFileSync(join(dir, `entries-${"a".repeat(64)}.ndjson`));
    expect(lookup[0]).toBe(`pk3s-lookup 4 ${"a".repeat(64)} ${entries.length}`);
    expect(lookup).toHaveLength(ENTRIES.length + 2); // header, entries, final newline
    expect(lookup.slice(1, -1).map((l) => l.split("\t")[2])).toEqual(["cert-manager", "longhorn", "plain", "Ünïcode-tool"]); // by name bytes
    const [offset, length, name, ...fields] = lookup[4]!.split("\t");
    expect(name).toBe("Ünïcode-tool");
    expect(fields).toEqual(["ünïcode-tool", 'i̇stanbul edition with quotes "inside"', "misc"]);
    expect(JSON.parse(entries.toString("utf8", Number(offset), Number(offset) + Number(length)))).toEqual(ENTRIES[2]);
  });

  it("a lookup by name finds every version of exactly the names asked for, among many", async () => {
    const many: CatalogEntry[] = [];
    for (let i = 0; i < 600; i++) {
      const name = `pkg-${(i * 7919) % 211}${i % 3 === 0 ? "-x" : ""}`; // repeated names, unsorted, prefixes of each other
      many.push({ ...entry(name, `number ${i}`), version: `1.0.${i}` } as CatalogEntry);
    }
    await new CatalogCache(url).writeEntries({ sha256: "d".repeat(64), entries: many, warnings: [] });
    for (const wanted of [["pkg-0"], ["pkg-1", "pkg-10-x", "pkg-210"], ["pkg-100", "zzz", "a", "pkg-"]]) {
      const got = await new CatalogCache(url).readEntries("d".repeat(64), { names: new Set(wanted) });
      expect(got?.entries).toEqual(many.filter((e) => wanted.includes(e.name))); // entry order kept
    }
  });

  it.each([
    ["missing", (file: string) => unlinkSync(file)],
    ["from another entries file", (file: string) => writeFileSync(file, readFileSync(file, "utf8").replace(/ (\d+)\n/, " 1$1\n"))],
  ])("a %s lookup file falls back to scanning the entries (same answers)", async (_what, damage) => {
    const dir = new CatalogCache(url).dir;
    damage(join(dir, readdirSync(dir).find((n) => n.startsWith("lookup-"))!));
    expect((await new CatalogCache(url).readEntries("a".repeat(64), { needle: "cert" }))?.entries.map((e) => e.name)).toEqual([
      "cert-manager",
    ]);
    expect((await new CatalogCache(url).readEntries("a".repeat(64), { names: new Set(["plain"]) }))?.entries.map((e) => e.name)).toEqual([
      "plain",
    ]);
  });

  it("without a lookup file, a needle that every entry matches still returns them all (150,000 entries)", async () => {
    const many = Array.from(
      { length: 150_000 },
      (_, i) => ({ name: `p${i}`, version: "1.0.0", type: "addon", url: "p.tgz" }) as CatalogEntry,
    );
    await new CatalogCache(url).writeEntries({ sha256: "f".repeat(64), entries: many, warnings: [] });
    unlinkSync(join(new CatalogCache(url).dir, `lookup-${"f".repeat(64)}.tsv`));
    expect((await new CatalogCache(url).readEntries("f".repeat(64), { needle: "p" }))?.entries).toHaveLength(150_000);
  });

  it("writing another digest's entries removes the old entries and lookup files", async () => {
    await new CatalogCache(url).writeEntries({ sha256: "c".repeat(64), entries: ENTRIES.slice(0, 1), warnings: [] });
    expect(readdirSync(new CatalogCache(url).dir).sort()).toEqual([`entries-${"c".repeat(64)}.ndjson`, `lookup-${"c".repeat(64)}.tsv`]);
    expect(await new CatalogCache(url).readEntries("a".repeat(64))).toBeUndefined();
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

describe("resolution reads only the names it can reach", () => {
  let sb: Sandbox;
  const saved = { ...process.env };
  beforeEach(() => {
    sb = sandbox();
    Object.assign(process.env, sb.env);
  });
  afterEach(() => {
    for (const k of Object.keys(sb.env)) delete process.env[k];
    Object.assign(process.env, saved);
    sb.cleanup();
  });

  it("follows dependencies across catalogs, layer by layer, and resolves as from every entry", async () => {
    const noise = Array.from({ length: 50 }, (_, i) => pkg(`noise-${i}`, "1.0.0", { dependencies: [{ name: "leaf", version: "*" }] }));
    const publicIndex = writeLocalCatalog(join(sb.root, "public"), [
      pkg("app", "1.0.0", { dependencies: [{ name: "mid", version: "^1" }] }),
      pkg("leaf", "2.0.0"),
      ...noise,
    ]);
    const privateIndex = writeLocalCatalog(join(sb.root, "private"), [
      pkg("mid", "1.1.0", { dependencies: [{ name: "leaf", version: ">=2" }] }),
      pkg("mid", "0.9.0", { dependencies: [{ name: "old-leaf", version: "*" }] }),
      pkg("old-leaf", "1.0.0"),
      pkg("unrelated", "1.0.0"),
    ]);
    expect((await sb.run(["catalog", "add", "public", publicIndex])).code).toBe(0);
    expect((await sb.run(["catalog", "add", "private", privateIndex, "--priority", "5"])).code).toBe(0);
    const { Session } = await import("../src/operations/session.js");
    const { resolveDependencyPlan } = await import("../src/catalog/dependency-graph.js");
    const session = new Session({ offline: true });
    try {
      const all = await session.catalogs();
      const reached = await session.catalogsReaching(["app"]);
      const names = reached.flatMap((c) => c.entries.map((e) => `${c.source.name}/${e.name}@${e.version}`)).sort();
      // Every version of every reachable name (mid@0.9.0 brings old-leaf), nothing else.
      expect(names).toEqual(["private/mid@0.9.0", "private/mid@1.1.0", "private/old-leaf@1.0.0", "public/app@1.0.0", "public/leaf@2.0.0"]);
      const ref = (p: ReturnType<typeof resolveDependencyPlan>) => p.order.map((e) => `${e.catalog}/${e.name}@${e.version}`);
      expect(ref(resolveDependencyPlan(reached, "app"))).toEqual(ref(resolveDependencyPlan(all, "app")));
      expect(ref(resolveDependencyPlan(reached, "app"))).toEqual(["public/leaf@2.0.0", "private/mid@1.1.0", "public/app@1.0.0"]);
    } finally {
      await session.close();
    }
  });
});

describe("catalogsReaching merges its layers", () => {
  it("reads each name once, and a catalog returned whole by a later layer adds no duplicates", async () => {
    const { Session } = await import("../src/operations/session.js");
    const all = [
      { name: "app", version: "1.0.0", dependencies: [{ name: "mid", version: "*" }] },
      { name: "mid", version: "1.0.0", dependencies: [{ name: "leaf", version: "*" }] },
      { name: "mid", version: "2.0.0", dependencies: [{ name: "app", version: "*" }] },
      { name: "leaf", version: "1.0.0" },
      { name: "noise", version: "1.0.0" },
    ].map(
      (e): ResolvedEntry => ({ ...e, type: "addon", url: `${e.name}.tgz`, catalog: "c", resolvedUrl: `https://c.example/${e.name}.tgz` }),
    );
    const asked: string[][] = [];
    class LayeredSession extends Session {
      override async catalogs(_spec?: unknown, _refresh?: boolean, query?: CompactQuery): Promise<LoadedCatalog[]> {
        const names = [...(query?.names ?? [])].sort();
        asked.push(names);
        // The third read comes back whole, as after a network revalidation.
        const entries = asked.length === 3 ? all : all.filter((e) => names.includes(e.name));
        return [
          { source: { name: "c", url: "https://c.example/index.yaml", priority: 0 }, origin: "cache" as const, warnings: [], entries },
        ];
      }
    }
    const session = new LayeredSession({ offline: true });
    const [c] = await session.catalogsReaching(["app"]);
    expect(asked).toEqual([["app"], ["mid"], ["leaf"]]);
    expect(c?.entries.map((e) => `${e.name}@${e.version}`)).toEqual(["app@1.0.0", "mid@1.0.0", "mid@2.0.0", "leaf@1.0.0"]);
    await session.close();
  });
});
