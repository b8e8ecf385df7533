/**
 * How `pk3s catalog index` reads a folder of packages (built binary): several packages in flight with the
 * same answer and the same first error as one after the other, an unchanged package (same bytes at the same
 * URL as in the previous index) taken from the previous index, anything else read in full, and nothing
 * written when a package is refused.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { file, tgz } from "../../pkg-format/test/helpers/tar-builder.js";
import { digestOf, packageBytes } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

/** Fixed time: a from-scratch index and a re-index of the same folder write the same `created`. */
const EPOCH = { SOURCE_DATE_EPOCH: "1764000000" };

const addonManifest = (name: string, version: string, extra = ""): string =>
  `apiVersion: addons.productive-k3s.io/v1\nkind: Addon\nmetadata:\n  name: ${name}\n  version: ${version}\n  category: test\n` +
  `  description: ${name} for index tests\nspec:\n  type: shell\n  install:\n    script: scripts/install.sh\n${extra}`;

/** An add-on package with `manifest` as its addon.yaml (any text: the tests write invalid ones too). */
const addonPackage = (manifest: string): Buffer =>
  tgz(file("addon.yaml", manifest), file("scripts/install.sh", "#!/bin/sh\necho install\n", 0o755));

/** `count` valid add-ons `pkg-00` … in `dir`. */
function writePackages(dir: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const name = `pkg-${String(i).padStart(2, "0")}`;
    writeFileSync(join(dir, `${name}-1.0.0.tgz`), packageBytes(name, "1.0.0"));
  }
}

function entriesOf(indexFile: string): Record<string, unknown>[] {
  return parse(readFileSync(indexFile, "utf8")).entries;
}

describe("catalog index reads many packages at once", () => {
  it("refuses the first bad package in sorted order, the same way every time, and writes nothing", async () => {
    const dir = join(sb.root, "repo");
    mkdirSync(dir);
    writePackages(dir, 40);
    // Two bad packages: pkg-07 has an invalid manifest, pkg-31 is not gzip at all. pkg-07 comes first.
    writeFileSync(join(dir, "pkg-07-1.0.0.tgz"), addonPackage(addonManifest("pkg-07", "not-a-version")));
    writeFileSync(join(dir, "pkg-31-1.0.0.tgz"), "not a package");
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await sb.run(["catalog", "index", dir]));
    for (const r of results) {
      expect(r.code).toBe(4);
      expect(r.stderr).toBe(results[0]?.stderr);
    }
    expect(results[0]?.stderr).toContain(`${join(dir, "pkg-07-1.0.0.tgz")}/addon.yaml:5:12: metadata.version: expected`);
    expect(results[0]?.stderr).not.toContain("pkg-31");
    expect(readdirSync(dir).filter((f) => !f.endsWith(".tgz"))).toEqual([]);

    // With pkg-07 fixed, pkg-31 is the first bad one: an integrity error (exit 6) naming it; still nothing written,
    // and with a signing key nothing is signed.
    writeFileSync(join(dir, "pkg-07-1.0.0.tgz"), packageBytes("pkg-07", "1.0.0"));
    expect((await sb.run(["key", "generate", "--out", join(sb.root, "release")])).code).toBe(0);
    const notGzip = await sb.run(["catalog", "index", dir, "--sign-key", join(sb.root, "release.key")]);
    expect(notGzip.code).toBe(6);
    expect(notGzip.stderr).toContain("not a gzip-compressed archive");
    expect(notGzip.stderr).toContain(join(dir, "pkg-31-1.0.0.tgz"));
    expect(readdirSync(dir).filter((f) => !f.endsWith(".tgz"))).toEqual([]);
  });

  it("refuses a package version that two files hold before any later bad package (exit 2)", async () => {
    const dir = join(sb.root, "repo");
    mkdirSync(dir);
    writePackages(dir, 20);
    writeFileSync(join(dir, "pkg-05-copy.tgz"), packageBytes("pkg-05", "1.0.0"));
    writeFileSync(join(dir, "pkg-15-1.0.0.tgz"), "truncated");
    const r = await sb.run(["catalog", "index", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`addon/pkg-05@1.0.0 is in both ${join(dir, "pkg-05-1.0.0.tgz")} and ${join(dir, "pkg-05-copy.tgz")}`);
    expect(readdirSync(dir).filter((f) => !f.endsWith(".tgz"))).toEqual([]);
  });

  it("lists every package in sorted order, whatever order they are read in", async () => {
    const dir = join(sb.root, "repo");
    mkdirSync(dir);
    writePackages(dir, 60);
    const r = await sb.run(["catalog", "index", dir, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const entries = entriesOf(join(dir, "index.yaml"));
    expect(entries.map((e) => e.name)).toEqual(Array.from({ length: 60 }, (_, i) => `pkg-${String(i).padStart(2, "0")}`));
    for (const e of entries) expect(e.digest).toBe(digestOf(readFileSync(join(dir, String(e.url)))));
  });
});

describe("catalog index reuses the entries of unchanged packages", () => {
  /** An add-on with dependencies and compatibility, a profile with inputs and engine, a stack. */
  function writeVariedPackages(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "app-1.0.0.tgz"),
      addonPackage(
        addonManifest(
          "app",
          "1.0.0",
          "  dependencies:\n    - base\n    - name: db\n      version: ^2.1.0\n  compatibility:\n    architectures: [amd64, arm64]\n    k3s:\n      minVersion: 1.31.0\n",
        ),
      ),
    );
    writeFileSync(join(dir, "base-1.0.0.tgz"), packageBytes("base", "1.0.0"));
    writeFileSync(
      join(dir, "lab-2.0.0.tgz"),
      tgz(
        file(
          "profile.yaml",
          "apiVersion: infra.productive-k3s.io/v1\nkind: Profile\nmetadata:\n  name: lab\n  version: 2.0.0\n  category: test\n" +
            "spec:\n  scenario:\n    type: test\n  engine:\n    type: opentofu\n  inputs:\n    - name: AWS_REGION\n      required: true\n" +
            "    - name: AWS_SECRET\n      sensitive: true\n      source: local-override\n",
        ),
      ),
    );
    writeFileSync(
      join(dir, "platform-1.0.0.tgz"),
      tgz(
        file(
          "stack.yaml",
          "apiVersion: addons.productive-k3s.io/v1\nkind: Stack\nmetadata:\n  name: platform\n  version: 1.0.0\nspec:\n  addons:\n    - app\n",
        ),
      ),
    );
  }

  it("a re-index gives the index a from-scratch run gives, keeping what was published before", async () => {
    const dir = join(sb.root, "repo");
    writeVariedPackages(dir);
    const first = await sb.run(["catalog", "index", dir, "--license", "Apache-2.0"], EPOCH);
    expect(first.code, first.stderr).toBe(0);
    const published = readFileSync(join(dir, "index.yaml"), "utf8");
    const again = await sb.run(["catalog", "index", dir, "--json"], EPOCH);
    expect(again.code, again.stderr).toBe(0);
    const reindexed = readFileSync(join(dir, "index.yaml"), "utf8");
    expect(reindexed).toBe(published);
    rmSync(join(dir, "index.yaml"));
    expect((await sb.run(["catalog", "index", dir, "--license", "Apache-2.0"], EPOCH)).code).toBe(0);
    expect(readFileSync(join(dir, "index.yaml"), "utf8")).toBe(published);
    expect(entriesOf(join(dir, "index.yaml")).map((e) => `${e.type}/${e.name}`)).toEqual([
      "addon/app",
      "addon/base",
      "profile/lab",
      "stack/platform",
    ]);
  });

  it("takes an unchanged package's manifest fields from the previous index, and reads a changed one again", async () => {
    const dir = join(sb.root, "repo");
    writeVariedPackages(dir);
    expect((await sb.run(["catalog", "index", dir], EPOCH)).code).toBe(0);
    const indexFile = join(dir, "index.yaml");
    // The previous index says something else about base (same bytes, same URL): that is what is kept.
    expect(entriesOf(indexFile).find((e) => e.name === "base")?.description).toBeUndefined(); // packageBytes writes none
    writeFileSync(
      indexFile,
      readFileSync(indexFile, "utf8").replace(
        /(- name: base\n(?: {4}.*\n)*? {4}category: test\n)/,
        "$1    description: kept from before\n",
      ),
    );
    expect(entriesOf(indexFile).find((e) => e.name === "base")?.description).toBe("kept from before");

    // app changes: same name and version, other bytes (another description). Its new digest and manifest are read.
    const changed = addonPackage(addonManifest("app", "1.0.0").replace("app for index tests", "app, rebuilt"));
    writeFileSync(join(dir, "app-1.0.0.tgz"), changed);
    const r = await sb.run(["catalog", "index", dir], EPOCH);
    expect(r.code, r.stderr).toBe(0);
    const after = entriesOf(indexFile);
    const app = after.find((e) => e.name === "app");
    expect(app).toMatchObject({ digest: digestOf(changed), size: changed.length, description: "app, rebuilt" });
    expect(app?.dependencies).toBeUndefined();
    expect(after.find((e) => e.name === "base")?.description).toBe("kept from before");
  });

  it("reads a package in full when the previous index's digest for its URL is not its digest (tampered or truncated bytes)", async () => {
    const dir = join(sb.root, "repo");
    writeVariedPackages(dir);
    expect((await sb.run(["catalog", "index", dir], EPOCH)).code).toBe(0);
    const indexFile = join(dir, "index.yaml");
    const published = readFileSync(indexFile, "utf8");

    // Truncated: its digest no longer matches, so it is read, and refused; the published index stays.
    const good = readFileSync(join(dir, "base-1.0.0.tgz"));
    writeFileSync(join(dir, "base-1.0.0.tgz"), good.subarray(0, good.length - 20));
    const truncated = await sb.run(["catalog", "index", dir]);
    expect(truncated.code).toBe(6);
    expect(truncated.stderr).toContain("truncated");
    expect(truncated.stderr).toContain(join(dir, "base-1.0.0.tgz"));
    expect(readFileSync(indexFile, "utf8")).toBe(published);

    // A package replaced by one whose manifest is invalid, under the old file name: refused with its error.
    writeFileSync(join(dir, "base-1.0.0.tgz"), addonPackage(addonManifest("base", "1.0.0").replace("type: shell", "type: nope")));
    const invalid = await sb.run(["catalog", "index", dir]);
    expect(invalid.code).toBe(4);
    expect(invalid.stderr).toContain(`${join(dir, "base-1.0.0.tgz")}/addon.yaml:9:9: spec.type: expected`);
    expect(readFileSync(indexFile, "utf8")).toBe(published);
    // Outside the line reader's subset (a duplicate key): the yaml library's error, located.
    writeFileSync(join(dir, "base-1.0.0.tgz"), addonPackage(addonManifest("base", "1.0.0", "  type: shell\n")));
    const duplicate = await sb.run(["catalog", "index", dir]);
    expect(duplicate.code).toBe(4);
    expect(duplicate.stderr).toContain(`${join(dir, "base-1.0.0.tgz")}/addon.yaml:12:3: invalid YAML: Map keys must be unique`);

    // The previous index claims other bytes for the URL (a wrong digest): the package is read and its real digest written.
    writeFileSync(join(dir, "base-1.0.0.tgz"), good);
    writeFileSync(indexFile, published.replace(digestOf(good), `sha256:${"0".repeat(64)}`));
    expect((await sb.run(["catalog", "index", dir], EPOCH)).code).toBe(0);
    expect(entriesOf(indexFile).find((e) => e.name === "base")?.digest).toBe(digestOf(good));
  });
});
