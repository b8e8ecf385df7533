/**
 * Built-in catalogs (DESIGN §3, issue 12): a checkout's catalogs/local, an npm
 * install's public catalog plus the examples shipped inside pk3s. They are
 * configured entries: listed with where they come from, removed and restored
 * like any other, never dropped when the user adds a catalog. And config.json
 * is checked against its schema.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pkg, writeLocalCatalog } from "./helpers/catalogs.js";
import { PK3S_BIN, type Sandbox, sandbox } from "./helpers/cli.js";

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

/** The checkout's built-in catalog (the sandbox turns built-ins off by default). */
const CHECKOUT = { PK3S_DEFAULT_CATALOG: undefined };

const names = (stdout: string): string[] => (JSON.parse(stdout) as { catalogs: { name: string }[] }).catalogs.map((c) => c.name);
const configFile = (): string => join(sb.env.PK3S_CONFIG_DIR!, "config.json");

describe("built-in catalogs of a checkout", () => {
  it("adding a catalog keeps the built-in one: both are listed, both resolve", async () => {
    const acme = writeLocalCatalog(join(sb.root, "acme"), [pkg("acme-tool", "1.0.0")]);
    expect((await sb.run(["catalog", "add", "acme", acme], CHECKOUT)).code).toBe(0);
    const list = JSON.parse((await sb.run(["catalog", "list", "--json"], CHECKOUT)).stdout);
    expect(list.catalogs).toEqual([
      expect.objectContaining({ name: "acme", origin: "added", from: "added with pk3s catalog add" }),
      expect.objectContaining({ name: "local", origin: "built-in", from: "built in: this checkout's catalogs/local" }),
    ]);
    const text = await sb.run(["catalog", "list"], CHECKOUT);
    expect(text.stdout).toMatch(/^NAME +PRIORITY +URL +SIGNED +FROM$/m);
    expect(text.stdout).toMatch(/^local +0 +\S+catalogs\/local\/index\.yaml +unsigned +built in: this checkout's catalogs\/local$/m);
    const show = await sb.run(["profile", "show", "local-lab"], CHECKOUT);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("local-lab@1.0.0 (profile, catalog local)");
    expect((await sb.run(["addon", "show", "acme-tool"], CHECKOUT)).code).toBe(0);
    // Only what the user changed is stored: the built-in catalog follows the checkout.
    expect(JSON.parse(readFileSync(configFile(), "utf8"))).toEqual({
      catalogs: [{ name: "acme", url: `file://${acme}`, priority: 0 }],
      removedBuiltins: [],
    });
  });

  it("at equal priority an added catalog wins a name over a built-in one", async () => {
    const mine = writeLocalCatalog(join(sb.root, "mine"), [pkg("longhorn", "9.9.9")]);
    await sb.run(["catalog", "add", "mine", mine], CHECKOUT);
    const r = await sb.run(["addon", "show", "longhorn", "--json"], CHECKOUT);
    expect(JSON.parse(r.stdout).package).toMatchObject({ catalog: "mine", version: "9.9.9" });
  });

  it("is removed like any other, stays removed, and comes back with catalog add NAME", async () => {
    const removed = await sb.run(["catalog", "remove", "local"], CHECKOUT);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain("removed catalog local (built in; bring it back with: pk3s catalog add local)");
    expect(names((await sb.run(["catalog", "list", "--json"], CHECKOUT)).stdout)).toEqual([]);
    expect(JSON.parse(readFileSync(configFile(), "utf8")).removedBuiltins).toEqual(["local"]);
    const search = await sb.run(["search"], CHECKOUT);
    expect(search.code).toBe(3);
    expect(search.stderr).toContain("no catalog is configured");

    const restored = await sb.run(["catalog", "add", "local"], CHECKOUT);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/^restored the built-in catalog local \(.*catalogs\/local\/index\.yaml\)$/m);
    expect(names((await sb.run(["catalog", "list", "--json"], CHECKOUT)).stdout)).toEqual(["local"]);
  });

  it("refuses to add a catalog under a built-in's name, and to restore what is not built in", async () => {
    const other = writeLocalCatalog(join(sb.root, "other"), [pkg("x", "1.0.0")]);
    const clash = await sb.run(["catalog", "add", "local", other], CHECKOUT);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(`catalog "local" already exists (built in: this checkout's catalogs/local)`);
    expect(clash.stderr).toContain("hint: choose another name, or remove it first: pk3s catalog remove local");
    const bare = await sb.run(["catalog", "add", "acme"], CHECKOUT);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain(`"acme" is not a built-in catalog: give its URL or path`);
    expect(existsSync(configFile())).toBe(false);
  });
});

describe("built-in catalogs of an npm install", () => {
  /** pk3s as npm lays it out (package.json, the bundled dist/cli, examples/), away from this checkout. */
  function npmLayout(): { bin: string; cleanup: () => void } {
    const root = mkdtempSync(join(tmpdir(), "pk3s-npm-layout-"));
    const pkgDir = join(root, "lib", "node_modules", "@productive-k3s", "cli");
    const src = dirname(dirname(dirname(PK3S_BIN)));
    cpSync(join(src, "package.json"), join(pkgDir, "package.json"));
    cpSync(join(src, "dist", "cli"), join(pkgDir, "dist", "cli"), { recursive: true });
    cpSync(join(src, "examples"), join(pkgDir, "examples"), { recursive: true });
    return { bin: join(pkgDir, "dist", "cli", "pk3s.js"), cleanup: () => rmSync(root, { recursive: true, force: true }) };
  }

  it("lists the public catalog and the shipped examples; search works offline with a warning", async () => {
    const layout = npmLayout();
    try {
      const { execFileSync, spawnSync } = await import("node:child_process");
      const { NO_PROXY: _a, no_proxy: _b, ...base } = process.env;
      const env = {
        ...base,
        ...sb.env,
        PK3S_DEFAULT_CATALOG: "",
        // No network in tests, and none wanted: the public catalog's host is reached through a proxy that refuses.
        HTTPS_PROXY: "http://127.0.0.1:9",
        PK3S_HTTP_RETRIES: "1",
        NO_COLOR: "1",
      };
      const list = JSON.parse(execFileSync(process.execPath, ["--", layout.bin, "catalog", "list", "--json"], { env, encoding: "utf8" }));
      expect(list.catalogs).toEqual([
        expect.objectContaining({
          name: "productive-k3s",
          url: "https://catalogs.productive-k3s.io/catalogs/index.yaml",
          origin: "built-in",
          from: "built in: the public Productive K3S catalog",
        }),
        expect.objectContaining({ name: "examples", origin: "built-in", from: "built in: examples shipped inside pk3s (offline)" }),
      ]);
      const search = spawnSync(process.execPath, ["--", layout.bin, "search"], { env, encoding: "utf8", timeout: 60_000 });
      expect(search.status, search.stderr).toBe(0);
      expect(search.stdout).toMatch(/^hello-config +addon +1\.0\.0 +examples /m);
      expect(search.stdout).toMatch(/^hello-lab +profile +1\.0\.0 +examples /m);
      expect(search.stdout).toMatch(/^hello-web +addon +1\.0\.0 +examples /m);
      expect(search.stderr).toContain('warning: catalog "productive-k3s" could not be read and is left out of the results');
      // The public catalog ranks first (equal priority, listed first): an unqualified name stops at it, a qualified one resolves.
      const show = spawnSync(process.execPath, ["--", layout.bin, "addon", "show", "examples/hello-web"], { env, encoding: "utf8" });
      expect(show.status, show.stderr).toBe(0);
      expect(show.stdout).toContain("compatibility: k3s ≥ 1.31, distros: k3s, arch: amd64, arm64, core ≥ 0.1.0");
    } finally {
      layout.cleanup();
    }
  });
});

describe("config.json", () => {
  it.each([
    ["not JSON", "{catalogs: [", ["not valid JSON"]],
    [
      "a bad name and URL",
      JSON.stringify({ catalogs: [{ name: "Bad_Name", url: "ftp://x/index.yaml" }] }),
      [
        "catalogs[0].name: expected a catalog name: 1-63 lowercase letters",
        "catalogs[0].url: expected an absolute http://, https:// or file:// URL of a catalog index",
      ],
    ],
    ["a misspelt field", JSON.stringify({ catalgos: [] }), ['catalgos: unknown field "catalgos"']],
    [
      "a bad auth and priority",
      JSON.stringify({
        catalogs: [
          { name: "a", url: "https://a.example/index.yaml", auth: { type: "bearer", tokenEnv: "not a name!" } },
          { name: "b", url: "https://b.example/index.yaml", priority: 1.5 },
        ],
      }),
      [
        "catalogs[0].auth.tokenEnv: expected the NAME of an environment variable",
        "catalogs[1].priority: expected an integer, found number 1.5",
      ],
    ],
    [
      "a duplicate name",
      JSON.stringify({
        catalogs: [
          { name: "a", url: "https://a.example/index.yaml" },
          { name: "a", url: "https://b.example/index.yaml" },
        ],
      }),
      ['catalogs[1].name: expected a name no other catalog has (catalogs[0] has it), found string "a"'],
    ],
    [
      "a bad trusted key and signature setting",
      JSON.stringify({
        catalogs: [{ name: "a", url: "https://a.example/index.yaml", trustedKeys: ["RWQnot-a-key"] }],
        requireSignatures: "yes",
      }),
      [
        "catalogs[0].trustedKeys[0]: expected a minisign public key's base64 line (RW...)",
        'requireSignatures: expected a boolean (true/false), found string "yes"',
      ],
    ],
  ])("%s is an error naming the file and the field (exit 4)", async (_label, text, messages) => {
    const file = configFile();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    for (const args of [["catalog", "list"], ["search"], ["catalog", "add", "x", sb.root]]) {
      const r = await sb.run(args);
      expect(r.code, args.join(" ")).toBe(4);
      expect(r.stderr).toContain(`error: invalid pk3s configuration in ${file}`);
      for (const m of messages) expect(r.stderr).toContain(m);
      expect(r.stderr).toContain(`where: ${file}`);
    }
    expect(readFileSync(file, "utf8")).toBe(text); // nothing rewritten
  });
});
