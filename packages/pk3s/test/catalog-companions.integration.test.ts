/**
 * Catalog companions (issue 19): `pk3s catalog index` publishes the entries of index.yaml again as NDJSON
 * and as shards, pinned by digest in the index's `companions` (so a signed index's signature covers them);
 * `catalog add/update` and every cold load read the NDJSON companion, its digest checked as it streams,
 * and cache nothing of a companion that does not match (exit 6). A companion that is not found falls back
 * to the index's own entries with a warning. Served from loopback HTTP and as file:// catalogs.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shardKey } from "@productive-k3s/pkg-format/catalog-shards";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { file, tgz } from "../../pkg-format/test/helpers/tar-builder.js";
import { packageBytes } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { startServer, type TestServer } from "./helpers/http-server.js";
import { stubRuntimes } from "./helpers/stub-runtime.js";

let sb: Sandbox;
let server: TestServer | undefined;
let repo: string;

const PACKAGES: [string, string][] = [
  ["app", "1.0.0"],
  ["app", "1.1.0"],
  ["db", "2.0.0"],
  ["cache", "0.3.0"],
];

beforeEach(() => {
  sb = sandbox();
  repo = join(sb.root, "repo");
  mkdirSync(join(repo, "packages"), { recursive: true });
  for (const [name, version] of PACKAGES) writeFileSync(join(repo, "packages", `${name}-${version}.tgz`), packageBytes(name, version));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  sb.cleanup();
});

const sha256 = (b: Buffer | string): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

interface Companion {
  url: string;
  digest: string;
  size: number;
  format: string;
}

function indexDoc(): { entries: Record<string, unknown>[]; companions: Companion[]; serial?: number } {
  return parse(readFileSync(join(repo, "index.yaml"), "utf8"));
}

function companion(format: string): Companion {
  const c = indexDoc().companions.find((x) => x.format === format);
  if (c === undefined) throw new Error(`no ${format} companion`);
  return c;
}

const ndjsonLines = (file: string): unknown[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));

async function index(...extra: string[]): Promise<void> {
  const r = await sb.run(["catalog", "index", repo, ...extra]);
  expect(r.code, r.stderr).toBe(0);
}

/** Serve `repo` as static files; unknown paths are 404. */
async function serveRepo(): Promise<TestServer> {
  const s = await startServer();
  routeRepo(s);
  server = s;
  return s;
}

/** Route every file now in `repo` (again, after a new publication). */
function routeRepo(s: TestServer): void {
  const walk = (dir: string, prefix: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = `${prefix}/${e.name}`;
      if (e.isDirectory()) walk(join(dir, e.name), path);
      else {
        const file = join(dir, e.name);
        s.route(path, (_req, res) => {
          if (!existsSync(file)) {
            res.statusCode = 404;
            res.end("not found");
            return;
          }
          const body = readFileSync(file);
          res.writeHead(200, { "content-length": body.length });
          res.end(body);
        });
      }
    }
  };
  walk(repo, "");
}

/** The parsed-entries files in the sandbox's catalog cache. */
function cachedEntries(): string[] {
  const root = join(sb.root, "cache", "catalogs");
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((d) => readdirSync(join(root, d)).filter((f) => f.startsWith("entries-") || f.startsWith("lookup-")));
}

describe("catalog index writes companions", () => {
  it("the NDJSON companion and the shards hold exactly the index's entries, pinned by digest and size", async () => {
    await index();
    const doc = indexDoc();
    expect(doc.companions.map((c) => c.format)).toEqual(["entries+ndjson", "entries-shards+json"]);
    const nd = companion("entries+ndjson");
    const ndFile = join(repo, nd.url);
    expect(nd.url).toMatch(/^index\.d\/[0-9a-f]{16}\/index\.ndjson$/);
    expect(sha256(readFileSync(ndFile))).toBe(nd.digest);
    expect(readFileSync(ndFile).length).toBe(nd.size);
    const [header, ...entries] = ndjsonLines(ndFile);
    expect(header).toMatchObject({ apiVersion: "catalog.productive-k3s.io/v1", kind: "CatalogEntries", entries: 4 });
    expect(entries).toEqual(doc.entries);

    const rootRef = companion("entries-shards+json");
    const rootFile = join(repo, rootRef.url);
    expect(sha256(readFileSync(rootFile))).toBe(rootRef.digest);
    const root = JSON.parse(readFileSync(rootFile, "utf8"));
    expect(root).toMatchObject({ kind: "CatalogShards", prefix: 1, entries: 4 });
    const fromShards: Record<string, unknown>[] = [];
    for (const [key, info] of Object.entries(root.shards as Record<string, { digest: string; size: number; entries: number }>)) {
      const bytes = readFileSync(join(rootFile, "..", `${key}.ndjson`));
      expect(sha256(bytes)).toBe(info.digest);
      expect(bytes.length).toBe(info.size);
      const [, ...shardEntries] = ndjsonLines(join(rootFile, "..", `${key}.ndjson`)) as Record<string, unknown>[];
      expect(shardEntries).toHaveLength(info.entries);
      for (const e of shardEntries) expect(shardKey(String(e.name), 1)).toBe(key);
      fromShards.push(...shardEntries);
    }
    const byId = (e: Record<string, unknown>): string => `${e.name}@${e.version}`;
    expect(fromShards.map(byId).sort()).toEqual(doc.entries.map(byId).sort());
  });

  it("a new publication writes a new generation and removes the old one once the index names the new", async () => {
    await index();
    const first = companion("entries+ndjson").url.split("/")[1];
    writeFileSync(join(repo, "packages", "extra-1.0.0.tgz"), packageBytes("extra", "1.0.0"));
    await index();
    const second = companion("entries+ndjson").url.split("/")[1];
    expect(second).not.toBe(first);
    expect(readdirSync(join(repo, "index.d"))).toEqual([second]);
    expect(ndjsonLines(join(repo, companion("entries+ndjson").url))).toHaveLength(6);
  });

  it("catalog prune rewrites the companions to the remaining entries", async () => {
    await index();
    const pruned = await sb.run(["catalog", "prune", repo, "--keep-latest", "1"]);
    expect(pruned.code, pruned.stderr).toBe(0);
    const doc = indexDoc();
    expect(doc.entries.map((e) => `${e.name}@${e.version}`)).not.toContain("app@1.0.0");
    const nd = companion("entries+ndjson");
    expect(sha256(readFileSync(join(repo, nd.url)))).toBe(nd.digest);
    expect(ndjsonLines(join(repo, nd.url)).slice(1)).toEqual(doc.entries);
    expect(readdirSync(join(repo, "index.d"))).toEqual([nd.url.split("/")[1]]);
  });
});

describe("reading a catalog through its NDJSON companion", () => {
  it("add, search and show over HTTP fetch the companion and use its entries", async () => {
    await index();
    const s = await serveRepo();
    const add = await sb.run(["catalog", "add", "acme", `${s.url}index.yaml`]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain("4 entries");
    expect(s.requests.map((r) => r.url)).toEqual(["/index.yaml", `/${companion("entries+ndjson").url}`]);
    const search = await sb.run(["search", "app", "--json"]);
    expect(search.code, search.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(search.stdout))).toContain("1.1.0");
    const show = await sb.run(["addon", "show", "db"]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("2.0.0");
  });

  it("a file:// catalog is read through its companion too; a tampered one is refused (exit 6), nothing cached", async () => {
    await index();
    const add = await sb.run(["catalog", "add", "local", `file://${join(repo, "index.yaml")}`]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain("4 entries");
    await sb.run(["catalog", "remove", "local"]);
    const nd = join(repo, companion("entries+ndjson").url);
    writeFileSync(nd, readFileSync(nd, "utf8").replace('"db"', '"dc"'));
    const again = await sb.run(["catalog", "add", "local", join(repo, "index.yaml")]);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain(`companion ${nd} does not match the index`);
    expect(cachedEntries()).toEqual([]);
  });

  it("a tampered companion over HTTP: exit 6 naming the index and the companion, nothing cached, catalog not added", async () => {
    await index();
    const nd = companion("entries+ndjson");
    // Same length, other bytes: only the digest can tell.
    const file = join(repo, nd.url);
    writeFileSync(file, readFileSync(file, "utf8").replace("test", "tesT"));
    const s = await serveRepo();
    const add = await sb.run(["catalog", "add", "acme", `${s.url}index.yaml`]);
    expect(add.code).toBe(6);
    expect(add.stderr).toContain(`companion ${s.url}${nd.url} does not match the index`);
    expect(add.stderr).toContain(`where: ${s.url}index.yaml`);
    expect(cachedEntries()).toEqual([]);
    expect((await sb.run(["catalog", "list", "--json"])).stdout).not.toContain("acme");
  });

  it("a companion cut short or broken is an integrity error too, not a format error", async () => {
    await index();
    const file = join(repo, companion("entries+ndjson").url);
    writeFileSync(file, `${readFileSync(file, "utf8").slice(0, 200)}{not json\n`);
    const s = await serveRepo();
    const add = await sb.run(["catalog", "add", "acme", `${s.url}index.yaml`]);
    expect(add.code).toBe(6);
    expect(cachedEntries()).toEqual([]);
  });

  it("a companion that is not found (404) falls back to the index's own entries, with a warning", async () => {
    await index();
    const nd = companion("entries+ndjson");
    const s = await serveRepo();
    rmSync(join(repo, nd.url));
    const add = await sb.run(["catalog", "add", "acme", `${s.url}index.yaml`]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain("4 entries");
    expect(add.stderr).toContain(`companion ${s.url}${nd.url} not found; reading the entries from the index itself`);
    expect((await sb.run(["addon", "show", "cache"])).code).toBe(0);
  });
});

describe("a signed catalog's companions", () => {
  it("are covered by the index's signature: a swapped companion, or an index re-pointed at it, is refused", async () => {
    expect((await sb.run(["key", "generate", "--out", join(sb.root, "release")])).code).toBe(0);
    await index("--sign-key", join(sb.root, "release.key"));
    const s = await serveRepo();
    const trust = ["--trust-key", join(sb.root, "release.pub")];
    const ok = await sb.run(["catalog", "add", "signed", `${s.url}index.yaml`, ...trust]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(s.requests.map((r) => r.url)).toContain(`/${companion("entries+ndjson").url}`);
    await sb.run(["catalog", "remove", "signed"]);

    // A companion with other content (another digest) in place of the published one.
    const nd = companion("entries+ndjson");
    const file = join(repo, nd.url);
    const original = readFileSync(file, "utf8");
    const swapped = original.replace('"cache"', '"cachx"');
    writeFileSync(file, swapped);
    const refused = await sb.run(["catalog", "add", "signed", `${s.url}index.yaml`, ...trust]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("does not match the index");
    expect(cachedEntries()).toEqual([]);

    // The index edited to pin the swapped companion: its signature no longer verifies.
    const indexFile = join(repo, "index.yaml");
    writeFileSync(indexFile, readFileSync(indexFile, "utf8").replace(nd.digest, sha256(swapped)));
    const resigned = await sb.run(["catalog", "add", "signed", `${s.url}index.yaml`, ...trust]);
    expect(resigned.code).toBe(6);
    expect(resigned.stderr).toMatch(/signature/i);
    expect(cachedEntries()).toEqual([]);
  });
});

describe("sparse reads through the shards", () => {
  /** A real add-on package whose manifest lists `deps` (catalog index copies them into the entry). */
  function addonWithDeps(name: string, version: string, deps: string[]): Buffer {
    const dependencies =
      deps.length === 0 ? "" : `  dependencies:\n${deps.map((d) => `    - name: ${d}\n      version: "^1.0.0"\n`).join("")}`;
    return tgz(
      file(
        "addon.yaml",
        `apiVersion: addons.productive-k3s.io/v1\nkind: Addon\nmetadata:\n  name: ${name}\n  version: ${version}\n  category: test\nspec:\n  type: shell\n  install:\n    script: scripts/install.sh\n${dependencies}`,
      ),
      file("scripts/install.sh", "#!/bin/sh\necho install\n", 0o755),
    );
  }

  let env: Record<string, string>;
  let kubeconfig: string;

  beforeEach(() => {
    for (const f of readdirSync(join(repo, "packages"))) rmSync(join(repo, "packages", f));
    writeFileSync(join(repo, "packages", "web-1.0.0.tgz"), addonWithDeps("web", "1.0.0", ["store"]));
    writeFileSync(join(repo, "packages", "store-1.2.0.tgz"), addonWithDeps("store", "1.2.0", []));
    for (let i = 0; i < 40; i++) writeFileSync(join(repo, "packages", `fill${i}-1.0.0.tgz`), addonWithDeps(`fill${i}`, "1.0.0", []));
    env = stubRuntimes(sb.root).env;
    const plan = (name: string, version: string) => ({ ok: true, dryRun: true, action: "install", name, version, commands: [] });
    env.STUB_STDOUT_addon_install = JSON.stringify({ ...plan("web", "1.0.0"), dependencyPackages: [plan("store", "1.2.0")] });
    kubeconfig = join(sb.root, "kubeconfig.yaml");
    writeFileSync(
      kubeconfig,
      "apiVersion: v1\nkind: Config\ncurrent-context: lab\ncontexts:\n  - name: lab\n    context: {cluster: lab, user: admin}\nclusters:\n  - name: lab\n    cluster: {server: https://10.1.2.3:6443}\nusers:\n  - name: admin\n    user: {token: t}\n",
    );
  });

  const shardPath = (name: string): string =>
    `/${companion("entries-shards+json").url.replace(/root\.json$/, `${shardKey(name, 1)}.ndjson`)}`;
  const dryRun = (): Promise<import("./helpers/cli.js").RunResult> =>
    sb.run(["addon", "install", "web", "--kubeconfig", kubeconfig, "--dry-run"], env);

  it("a cold install --dry-run fetches the index, the root and only the shards of the package and its dependency", async () => {
    await index();
    const s = await serveRepo();
    expect((await sb.run(["catalog", "add", "acme", `${s.url}index.yaml`, "--offline"])).code).toBe(0);
    const r = await dryRun();
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
    const fetched = s.requests.map((q) => q.url);
    const expected = ["/index.yaml", `/${companion("entries-shards+json").url}`, shardPath("web"), shardPath("store")];
    expect(fetched.filter((u) => !u.startsWith("/packages/"))).toEqual([...new Set(expected)]);
    expect(fetched.filter((u) => u.startsWith("/packages/")).sort()).toEqual(["/packages/store-1.2.0.tgz", "/packages/web-1.0.0.tgz"]);
    expect(fetched).not.toContain(`/${companion("entries+ndjson").url}`);

    // A later command that needs the whole catalog (search) reads it from the NDJSON companion.
    const search = await sb.run(["search", "fill3", "--json"]);
    expect(search.code, search.stderr).toBe(0);
    expect(search.stdout).toContain("fill39");
    expect(s.requests.map((q) => q.url)).toContain(`/${companion("entries+ndjson").url}`);
  });

  it("a signed catalog's sparse reads keep its trust rules: signature checked, a rolled-back index refused", async () => {
    expect((await sb.run(["key", "generate", "--out", join(sb.root, "release")])).code).toBe(0);
    const key = join(sb.root, "release.key");
    await index("--sign-key", key, "--serial", "5");
    const old = { index: readFileSync(join(repo, "index.yaml")), sig: readFileSync(join(repo, "index.yaml.minisig")) };
    const s = await serveRepo();
    await sb.run(["catalog", "add", "acme", `${s.url}index.yaml`, "--offline", "--trust-key", join(sb.root, "release.pub")]);
    const first = await dryRun();
    expect(first.code, first.stderr).toBe(0);
    expect(s.requests.map((q) => q.url)).toContain("/index.yaml.minisig");
    expect(s.requests.map((q) => q.url)).not.toContain(`/${companion("entries+ndjson").url}`);

    // Serial 6 is published and read (sparsely); then a mirror serves serial 5 again.
    await index("--sign-key", key);
    routeRepo(s);
    const again = await sb.run(["addon", "install", "web", "--kubeconfig", kubeconfig, "--dry-run"], { ...env, PK3S_CATALOG_TTL: "0" });
    expect(again.code, again.stderr).toBe(0);
    writeFileSync(join(repo, "index.yaml"), old.index);
    writeFileSync(join(repo, "index.yaml.minisig"), old.sig);
    const rolledBack = await sb.run(["addon", "install", "web", "--kubeconfig", kubeconfig, "--dry-run"], {
      ...env,
      PK3S_CATALOG_TTL: "0",
    });
    expect(rolledBack.code).toBe(6);
    expect(rolledBack.stderr).toContain("index serial 5 is lower than serial 6 already accepted on this machine (rollback)");
  });

  it("a tampered shard is refused (exit 6) and not kept", async () => {
    await index();
    const shard = join(repo, shardPath("store").slice(1));
    writeFileSync(shard, readFileSync(shard, "utf8").replace('"store"', '"storf"'));
    const s = await serveRepo();
    await sb.run(["catalog", "add", "acme", `${s.url}index.yaml`, "--offline"]);
    const r = await dryRun();
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`companion ${s.url}${shardPath("store").slice(1)} does not match the index`);
    const cacheDirs = readdirSync(join(sb.root, "cache", "catalogs"));
    const kept = cacheDirs.flatMap((d) =>
      existsSync(join(sb.root, "cache", "catalogs", d, "shards")) ? readdirSync(join(sb.root, "cache", "catalogs", d, "shards")) : [],
    );
    expect(kept).not.toContain(createHash("sha256").update(readFileSync(shard)).digest("hex"));
  });

  it("a tampered shard root is refused (exit 6)", async () => {
    await index();
    const root = join(repo, companion("entries-shards+json").url);
    writeFileSync(root, readFileSync(root, "utf8").replace('"prefix":1', '"prefix":1 '));
    const s = await serveRepo();
    await sb.run(["catalog", "add", "acme", `${s.url}index.yaml`, "--offline"]);
    const r = await dryRun();
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("root.json does not match the index");
  });
});
