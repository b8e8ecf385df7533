/**
 * `pk3s catalog add|list|remove|update|index|prune`, the default catalog,
 * search/show over the published v1alpha1 index, and multi-catalog merging.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { packPackage } from "@productive-k3s/pkg-format/pack";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMPAT_DIR } from "../../../fixtures/compat-dir.js";
import { pkg, writeLocalCatalog } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { writeAddonSource } from "./helpers/sources.js";

const V1ALPHA1 = join(COMPAT_DIR, "catalog/productive-k3s-catalog-index.yaml");

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

describe("catalog configuration", () => {
  it("add fetches and checks the index first, like helm repo add: nothing is saved when that fails", async () => {
    const missing = await sb.run(["catalog", "add", "typo", join(sb.root, "no-such-dir")]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`index not found at ${join(sb.root, "no-such-dir", "index.yaml")}`);
    const down = await sb.run(["catalog", "add", "down", "http://127.0.0.1:9/index.yaml"], { PK3S_HTTP_RETRIES: "1" });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('catalog "down": connection failed');
    expect(JSON.parse((await sb.run(["catalog", "list", "--json"])).stdout).catalogs.map((c: { name: string }) => c.name)).not.toContain(
      "down",
    );
    const later = await sb.run(["catalog", "add", "later", "http://127.0.0.1:9/index.yaml", "--offline", "--json"]);
    expect(later.code).toBe(0);
    expect(JSON.parse(later.stdout)).toMatchObject({ ok: true, entries: null, catalog: { name: "later" } });
    const a = writeLocalCatalog(join(sb.root, "a"), [pkg("x", "1.0.0"), pkg("y", "1.0.0")]);
    const added = await sb.run(["catalog", "add", "alpha", a, "--json"]);
    expect(JSON.parse(added.stdout)).toMatchObject({ ok: true, entries: 2 });
  });

  it("an unreadable catalog stops unqualified resolution (fail closed) and says how to get past it", async () => {
    const a = writeLocalCatalog(join(sb.root, "a"), [pkg("x", "1.0.0")]);
    await sb.run(["catalog", "add", "alpha", a]);
    await sb.run(["catalog", "add", "down", "http://127.0.0.1:9/index.yaml", "--offline", "--priority", "10"]);
    const r = await sb.run(["addon", "show", "x"], { PK3S_HTTP_RETRIES: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("qualify the package with its catalog (catalog/name)");
    const qualified = await sb.run(["addon", "show", "alpha/x"], { PK3S_HTTP_RETRIES: "1" });
    expect(qualified.code).toBe(0);
    expect(qualified.stdout).toContain("x@1.0.0");
  });

  it("adds, lists by priority, and removes catalogs; the config is 0600 and names env vars only", async () => {
    const a = writeLocalCatalog(join(sb.root, "a"), [pkg("x", "1.0.0")]);
    expect((await sb.run(["catalog", "add", "alpha", a])).code).toBe(0);
    expect(
      (
        await sb.run([
          "catalog",
          "add",
          "beta",
          "https://catalog.example.com/pk3s/",
          "--username",
          "ci",
          "--password-env",
          "BETA_PW",
          "--priority",
          "5",
          "--offline",
        ])
      ).code,
    ).toBe(0);
    const dup = await sb.run(["catalog", "add", "alpha", a]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('catalog "alpha" already exists');
    const list = JSON.parse((await sb.run(["catalog", "list", "--json"])).stdout);
    expect(list.catalogs.map((c: { name: string }) => c.name)).toEqual(["beta", "alpha"]);
    expect(list.catalogs[0]).toMatchObject({
      url: "https://catalog.example.com/pk3s/index.yaml",
      priority: 5,
      auth: "basic auth as ci, password from $BETA_PW",
    });
    expect(list.catalogs[1].url).toBe(a);
    const config = join(sb.env.PK3S_CONFIG_DIR!, "config.json");
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect((await sb.run(["catalog", "remove", "beta"])).code).toBe(0);
    expect((await sb.run(["catalog", "remove", "beta"])).code).toBe(3);
    expect(JSON.parse(readFileSync(config, "utf8")).catalogs.map((c: { name: string }) => c.name)).toEqual(["alpha"]);
  });

  it.each([
    [["catalog", "add", "x", "https://user:pw@example.com/"], "must not embed credentials"],
    [["catalog", "add", "x", "https://example.com/", "--token-env", "abc-123-literal!"], "is not an environment variable name"],
    [["catalog", "add", "x", "https://example.com/", "--username", "u"], "go together"],
    [["catalog", "add", "Bad_Name", "https://example.com/"], "invalid catalog name"],
    [["catalog", "add", "x", "ftp://example.com/"], "unsupported catalog URL scheme"],
  ])("refuses %j (exit 2)", async (args, message) => {
    const r = await sb.run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain("pw@");
  });

  it("uses PK3S_DEFAULT_CATALOG instead of the built-in catalogs, and explains when there is none", async () => {
    const idx = writeLocalCatalog(join(sb.root, "d"), [pkg("defpkg", "2.0.0")]);
    const r = await sb.run(["search", "--json"], { PK3S_DEFAULT_CATALOG: idx });
    expect(JSON.parse(r.stdout).results).toMatchObject([{ name: "defpkg", catalog: "local" }]);
    const list = JSON.parse((await sb.run(["catalog", "list", "--json"], { PK3S_DEFAULT_CATALOG: idx })).stdout);
    expect(list.catalogs).toEqual([expect.objectContaining({ name: "local", origin: "environment", from: "PK3S_DEFAULT_CATALOG" })]);
    const none = await sb.run(["search"], { PK3S_DEFAULT_CATALOG: "none" });
    expect(none.code).toBe(3);
    expect(none.stderr).toContain("no catalog is configured");
    expect(none.stderr).toContain("hint: add one with pk3s catalog add <name> <url|path>");
  });

  it("defaults to the repository's catalogs/local/index.yaml in a checkout", async () => {
    const builtins = { PK3S_DEFAULT_CATALOG: undefined };
    const list = JSON.parse((await sb.run(["catalog", "list", "--json"], builtins)).stdout);
    expect(list.catalogs).toHaveLength(1);
    expect(list.catalogs[0]).toMatchObject({ name: "local", origin: "built-in", from: "built in: this checkout's catalogs/local" });
    expect(list.catalogs[0].url).toMatch(/catalogs\/local\/index\.yaml$/);
    const search = await sb.run(["search", "--json"], builtins);
    expect(search.code).toBe(0);
    expect(JSON.parse(search.stdout).results.every((r: { catalog: string }) => r.catalog === "local")).toBe(true);
  });

  it("leaves an invalid entry out with a warning instead of failing the whole catalog", async () => {
    const dir = join(sb.root, "bad");
    writeLocalCatalog(dir, [pkg("good", "1.0.0"), pkg("broken", "1.0.0", { digest: "sha256:not-hex" })]);
    await sb.run(["catalog", "add", "bad", dir]);
    const search = JSON.parse((await sb.run(["search", "--json"])).stdout);
    expect(search.results.map((r: { name: string }) => r.name)).toEqual(["good"]);
    const update = await sb.run(["catalog", "update"]);
    expect(update.code).toBe(0);
    expect(update.stderr).toContain("entries[1].digest");
  });

  it("merges several catalogs: search shows each, a qualified name selects one", async () => {
    const a = writeLocalCatalog(join(sb.root, "a"), [pkg("shared", "1.0.0"), pkg("only-a", "1.0.0")]);
    const b = writeLocalCatalog(join(sb.root, "b"), [pkg("shared", "3.0.0")]);
    await sb.run(["catalog", "add", "a", a, "--priority", "10"]);
    await sb.run(["catalog", "add", "b", b]);
    const s = JSON.parse((await sb.run(["search", "--json"])).stdout).results;
    expect(s.map((r: { catalog: string; name: string; version: string }) => `${r.catalog}/${r.name}@${r.version}`)).toEqual([
      "a/only-a@1.0.0",
      "a/shared@1.0.0",
      "b/shared@3.0.0",
    ]);
    expect(JSON.parse((await sb.run(["addon", "show", "shared", "--json"])).stdout).package).toMatchObject({
      catalog: "a",
      version: "1.0.0",
    });
    expect(JSON.parse((await sb.run(["addon", "show", "b/shared", "--json"])).stdout).package).toMatchObject({
      catalog: "b",
      version: "3.0.0",
    });
    const human = await sb.run(["search", "shared"]);
    expect(human.stdout.split("\n")[0]).toMatch(/^NAME\s+TYPE\s+VERSION\s+CATALOG\s+DESCRIPTION/);
  });
});

describe("the published v1alpha1 index", () => {
  beforeEach(async () => {
    expect((await sb.run(["catalog", "add", "published", V1ALPHA1])).code).toBe(0);
  });

  it("searches addons, profiles and the stack entry (kind: stack), with nothing left out", async () => {
    const r = JSON.parse((await sb.run(["search", "--json"])).stdout).results as { name: string; type: string; version: string }[];
    expect(r.filter((x) => x.type === "stack").map((x) => `${x.name}@${x.version}`)).toEqual(["base@0.1.0"]);
    expect(r.filter((x) => x.type === "addon").map((x) => x.name)).toEqual(["cert-manager", "longhorn", "nginx", "rancher", "registry"]);
    expect(r.filter((x) => x.type === "profile").every((x) => x.version === "594a7c9")).toBe(true);
    const profiles = JSON.parse((await sb.run(["search", "--type", "profile", "--json"])).stdout).results;
    expect(profiles).toHaveLength(4);
    const update = await sb.run(["catalog", "update"]);
    expect(update.stderr).not.toContain("left out");
  });

  it("shows a profile's inputs and which must come from --env-file; resolves git-sha versions exactly", async () => {
    const r = await sb.run(["profile", "show", "aws-single-node-basic@594a7c9", "--json"]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout).package;
    expect(d).toMatchObject({
      name: "aws-single-node-basic",
      version: "594a7c9",
      digest: null,
      url: "https://downloads.productive-k3s.io/infra/aws-single-node-basic-594a7c9.tgz",
    });
    expect(d.inputs.filter((i: { fromEnvFile: boolean }) => i.fromEnvFile).map((i: { name: string }) => i.name)).toEqual([
      "AWS_KEY_PAIR_NAME",
      "AWS_SSH_KEY_PATH",
    ]);
    const human = await sb.run(["profile", "show", "aws-single-node-basic"]);
    expect(human.stdout).toContain("AWS_KEY_PAIR_NAME (required, source local-override) — must come from --env-file");
    const wrong = await sb.run(["profile", "show", "aws-single-node-basic@abcdef0"]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain("available: 594a7c9");
  });

  it("refuses to install an entry without a digest (exit 6) before touching the network", async () => {
    const r = await sb.run(["addon", "install", "nginx", "--dry-run"]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("has no digest");
  });
});

describe("publisher commands", () => {
  it("catalog index builds a v1 index that pk3s can resolve, verify and merge", async () => {
    const src = join(sb.root, "src");
    const repo = join(sb.root, "repo");
    mkdirSync(repo);
    for (const [n, v, deps] of [
      ["base", "1.0.0", []],
      ["base", "1.1.0", []],
      ["app", "2.0.0", ["base"]],
    ] as [string, string, string[]][]) {
      await packPackage(await writeAddonSource(src, n, v, deps), repo);
    }
    const r = await sb.run(["catalog", "index", repo, "--json"]);
    expect(r.code).toBe(0);
    const doc = parse(readFileSync(join(repo, "index.yaml"), "utf8"));
    expect(doc.apiVersion).toBe("catalog.productive-k3s.io/v1");
    expect(doc.entries.map((e: { name: string; version: string }) => `${e.name}@${e.version}`)).toEqual([
      "app@2.0.0",
      "base@1.1.0",
      "base@1.0.0",
    ]);
    expect(doc.entries[0]).toMatchObject({
      type: "addon",
      url: "app-2.0.0.tgz",
      dependencies: [{ name: "base", version: "*" }],
      category: "test",
    });
    expect(doc.entries[0].digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(doc.entries[0].size).toBe(statSync(join(repo, "app-2.0.0.tgz")).size);

    await sb.run(["catalog", "add", "repo", repo]);
    const pulled = await sb.run(["addon", "pull", "app", "--output", join(sb.root, "out"), "--json"]);
    expect(pulled.code).toBe(0);
    expect(JSON.parse(pulled.stdout).digest).toBe(doc.entries[0].digest);

    // --base-url makes URLs absolute; --merge keeps entries the folder no longer has.
    const other = join(sb.root, "other");
    mkdirSync(other);
    await packPackage(await writeAddonSource(src, "extra", "0.1.0"), other);
    const out = join(sb.root, "merged.yaml");
    const m = await sb.run([
      "catalog",
      "index",
      other,
      "--base-url",
      "https://dl.example.com/addons",
      "--merge",
      join(repo, "index.yaml"),
      "--out",
      out,
      "--json",
    ]);
    expect(JSON.parse(m.stdout)).toMatchObject({ entries: 4, added: 1, merged: 3 });
    const merged = parse(readFileSync(out, "utf8"));
    expect(merged.entries.find((e: { name: string }) => e.name === "extra").url).toBe("https://dl.example.com/addons/extra-0.1.0.tgz");
  });

  it("catalog prune keeps the newest N releases per package (semver), prereleases only when asked or in flight", async () => {
    const src = join(sb.root, "src");
    const repo = join(sb.root, "repo");
    mkdirSync(repo);
    for (const v of ["1.0.0", "1.2.0", "1.5.0-rc.1", "1.10.0", "2.0.0-rc.1"])
      await packPackage(await writeAddonSource(src, "base", v), repo);
    await packPackage(await writeAddonSource(src, "solo", "0.1.0"), repo);
    // 1.10.0 and 1.2.0 are the two newest releases; 2.0.0-rc.1 is newer than both (in flight); 1.5.0-rc.1 was superseded.
    const dry = JSON.parse((await sb.run(["catalog", "prune", repo, "--keep-latest", "2", "--dry-run", "--json"])).stdout);
    expect(dry.removed.map((f: { version: string }) => f.version)).toEqual(["1.5.0-rc.1", "1.0.0"]);
    const withPre = JSON.parse(
      (await sb.run(["catalog", "prune", repo, "--keep-latest", "2", "--include-prerelease", "--dry-run", "--json"])).stdout,
    );
    expect(withPre.removed.map((f: { version: string }) => f.version)).toEqual(["1.5.0-rc.1", "1.2.0", "1.0.0"]);
    expect(readdirSync(repo)).toHaveLength(6);
    const r = await sb.run(["catalog", "prune", repo, "--keep-latest", "2"]);
    expect(r.code).toBe(0);
    expect(readdirSync(repo).sort()).toEqual(["base-1.10.0.tgz", "base-1.2.0.tgz", "base-2.0.0-rc.1.tgz", "solo-0.1.0.tgz"]);
    expect((await sb.run(["catalog", "prune", repo, "--keep-latest", "0"])).code).toBe(2);
  });
});

describe("names and catalogs on the command line", () => {
  beforeEach(async () => {
    await sb.run([
      "catalog",
      "add",
      "main",
      writeLocalCatalog(join(sb.root, "main"), [pkg("longhorn", "1.0.0"), pkg("cert-manager", "1.0.0")]),
    ]);
    await sb.run(["catalog", "add", "other", writeLocalCatalog(join(sb.root, "other"), [pkg("longhorn", "2.0.0")])]);
  });

  it("an unknown package name suggests the closest one of that type from the catalogs", async () => {
    for (const args of [
      ["addon", "show", "longhron"],
      ["addon", "pull", "longhron"],
      ["addon", "install", "longhron", "--dry-run"],
    ]) {
      const r = await sb.run(args);
      expect(r.code, args.join(" ")).toBe(3);
      expect(r.stderr).toContain('error: add-on "longhron" not found in any configured catalog (main, other) (Did you mean longhorn?)');
      expect(r.stderr).toContain("hint: use longhorn, e.g. pk3s addon show longhorn");
    }
    const far = await sb.run(["addon", "show", "zzzzzz"]);
    expect(far.stderr).not.toContain("Did you mean");
    const profile = await sb.run(["profile", "show", "longhron"]);
    expect(profile.stderr).not.toContain("Did you mean"); // longhorn is an add-on, not a profile
  });

  it("--catalog c is the same as c/name, on every command that resolves a package", async () => {
    const flag = JSON.parse((await sb.run(["addon", "show", "longhorn", "--catalog", "other", "--json"])).stdout);
    const qualified = JSON.parse((await sb.run(["addon", "show", "other/longhorn", "--json"])).stdout);
    expect(flag).toEqual(qualified);
    expect(flag.package).toMatchObject({ catalog: "other", version: "2.0.0" });
    const pulled = await sb.run(["addon", "pull", "longhorn@2", "--catalog", "other", "--output", sb.root, "--json"]);
    expect(JSON.parse(pulled.stdout)).toMatchObject({ name: "longhorn", version: "2.0.0" });
    for (const verb of ["install", "validate", "upgrade"]) {
      expect((await sb.run(["addon", verb, "--help"])).stdout).toContain("--catalog <name>");
    }
    for (const verb of ["show", "pull", "validate", "plan", "install"]) {
      expect((await sb.run(["profile", verb, "--help"])).stdout).toContain("--catalog <name>");
    }
    const clash = await sb.run(["addon", "show", "main/longhorn", "--catalog", "other"]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('error: "main/longhorn" names catalog "main" but --catalog says "other"');
    const bad = await sb.run(["addon", "show", "longhorn", "--catalog", "Other"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: invalid --catalog "Other"');
    const missing = await sb.run(["addon", "show", "longhorn", "--catalog", "nope"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no catalog named "nope"');
  });

  it("search leaves out a catalog it cannot read, with a warning; only no readable catalog at all is an error", async () => {
    await sb.run(["catalog", "add", "down", "http://127.0.0.1:9/index.yaml", "--offline", "--priority", "10"]);
    const r = await sb.run(["search", "--json"], { PK3S_HTTP_RETRIES: "1" });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results.map((x: { catalog: string; name: string }) => `${x.catalog}/${x.name}`)).toEqual([
      "main/cert-manager",
      "main/longhorn",
      "other/longhorn",
    ]);
    expect(r.stderr).toContain(
      'warning: catalog "down" could not be read and is left out of the results: catalog "down": connection failed',
    );
    await sb.run(["catalog", "remove", "main"]);
    await sb.run(["catalog", "remove", "other"]);
    const none = await sb.run(["search"], { PK3S_HTTP_RETRIES: "1" });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('error: catalog "down": connection failed');
  });
});

describe("addon show", () => {
  it("prints compatibility as text", async () => {
    const dir = await writeAddonSource(
      join(sb.root, "src"),
      "compat",
      "1.0.0",
      [],
      [
        "  compatibility:",
        "    architectures: [amd64, arm64]",
        '    k3s: {minVersion: "1.31", maxVersion: "1.33"}',
        "    kubernetes: {distros: [k3s]}",
        '    requires: {core: {minVersion: 0.1.0, maxVersionExclusive: "2.0"}}',
      ],
    );
    mkdirSync(join(sb.root, "pkgs"));
    await packPackage(dir, join(sb.root, "pkgs"));
    await packPackage(await writeAddonSource(join(sb.root, "src"), "plain", "1.0.0"), join(sb.root, "pkgs"));
    expect((await sb.run(["catalog", "index", join(sb.root, "pkgs")])).code).toBe(0);
    await sb.run(["catalog", "add", "packed", join(sb.root, "pkgs")]);
    const r = await sb.run(["addon", "show", "compat"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("compatibility: k3s ≥ 1.31 and ≤ 1.33, distros: k3s, arch: amd64, arm64, core ≥ 0.1.0 and < 2.0\n");
    const none = await sb.run(["addon", "show", "plain"]);
    expect(none.stdout).toContain("compatibility: not declared");
  });
});
