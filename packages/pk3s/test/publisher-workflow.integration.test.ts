/**
 * The publisher workflow, end to end with the built binary: pack many sources, generate a key, index and sign
 * the folder, serve it over loopback HTTP, consume it with a pinned key; re-publish (serial, kept signatures),
 * prune (re-signed index), and interoperate with keys and signatures made by the real minisign.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { writeAddonSource } from "./helpers/sources.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));

let sb: Sandbox;
let server: Server | undefined;
beforeEach(() => {
  sb = sandbox();
});
afterEach(async () => {
  await new Promise<void>((done) => (server === undefined ? done() : server.close(() => done())));
  server = undefined;
  sb.cleanup();
});

/** A static file server for `dir` on 127.0.0.1 (files read at request time). */
async function serve(dir: string): Promise<string> {
  server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname.slice(1));
    const path = join(dir, name);
    if (name.includes("/") || !existsSync(path)) {
      res.statusCode = 404;
      res.end("not found");
      return;
    }
    res.end(readFileSync(path));
  });
  await new Promise<void>((ready) => server!.listen(0, "127.0.0.1", ready));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`;
}

function minisignVerifies(pub: string, file: string): boolean {
  try {
    execFileSync("/usr/bin/minisign", ["-V", "-p", pub, "-m", file], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function sources(): Promise<string[]> {
  const src = join(sb.root, "src");
  return [
    await writeAddonSource(src, "base", "0.0.0"),
    await writeAddonSource(src, "app", "0.0.0", ["{name: base, version: ^1}"]),
    join(REPO, "fixtures/profiles/local-lab"),
  ];
}

describe("pk3s pack", () => {
  it("packs add-ons and profiles at once with a release version, all or nothing", async () => {
    const out = join(sb.root, "public");
    const r = await sb.run(["pack", ...(await sources()), "--out", out, "--version", "1.4.0", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const packed = JSON.parse(r.stdout).packages;
    expect(packed.map((p: { kind: string; name: string; version: string }) => `${p.kind} ${p.name}@${p.version}`)).toEqual([
      "addon base@1.4.0",
      "addon app@1.4.0",
      "profile local-lab@1.4.0",
    ]);
    expect(readdirSync(out).sort()).toEqual(["app-1.4.0.tgz", "base-1.4.0.tgz", "local-lab-1.4.0.tgz"]);
    const contents = await sb.run(["addon", "contents", join(out, "app-1.4.0.tgz"), "--json"]);
    expect(JSON.parse(contents.stdout).files.map((f: { path: string }) => f.path)).toEqual([
      "addon.yaml",
      "checksums.sha256",
      "scripts/install.sh",
    ]);

    // One bad source: nothing new appears in the output folder.
    const bad = join(sb.root, "bad");
    mkdirSync(bad);
    writeFileSync(join(bad, "addon.yaml"), "apiVersion: addons.productive-k3s.io/v1\nkind: Addon\nmetadata: {name: bad}\n");
    const failed = await sb.run(["pack", ...(await sources()), bad, "--out", join(sb.root, "other")]);
    expect(failed.code).toBe(4);
    expect(readdirSync(join(sb.root, "other"))).toEqual([]);
  });
  it("packs a stack source (stack.yaml) like the other kinds; the indexed catalog serves it to stack show", async () => {
    const stack = join(sb.root, "src", "platform");
    mkdirSync(join(stack, "values"), { recursive: true });
    writeFileSync(
      join(stack, "stack.yaml"),
      "apiVersion: addons.productive-k3s.io/v1\nkind: Stack\nmetadata: {name: platform, version: 0.0.0}\n" +
        "spec:\n  addons:\n    - {name: app, version: ^1, values: [values/app.yaml]}\n    - base\n",
    );
    writeFileSync(join(stack, "values", "app.yaml"), "replicas: 2\n");
    const out = join(sb.root, "public");
    const r = await sb.run(["pack", ...(await sources()), stack, "--out", out, "--version", "1.4.0", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).packages.at(-1)).toMatchObject({
      kind: "stack",
      name: "platform",
      version: "1.4.0",
      file: join(out, "platform-1.4.0.tgz"),
    });
    const idx = await sb.run(["catalog", "index", out, "--license", "Apache-2.0"]);
    expect(idx.code, idx.stderr).toBe(0);
    const entries = parse(readFileSync(join(out, "index.yaml"), "utf8")).entries as { name: string }[];
    expect(entries.find((e) => e.name === "platform")).toMatchObject({
      type: "stack",
      version: "1.4.0",
      license: "Apache-2.0",
      url: "platform-1.4.0.tgz",
    });
    expect((await sb.run(["catalog", "add", "release", out])).code).toBe(0);
    const show = await sb.run(["stack", "show", "platform"]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("platform@1.4.0 (stack, catalog release)");
    expect(show.stdout).toContain("add-ons:\n  app@^1 (values values/app.yaml)\n  base\n");
  });
});

describe("a signed catalog, published with pk3s and consumed with a pinned key", () => {
  it("index --sign-key signs packages and index; consumers verify; re-publishing raises the serial", async () => {
    const out = join(sb.root, "public");
    expect((await sb.run(["pack", ...(await sources()), "--out", out, "--version", "1.0.0"])).code).toBe(0);
    expect((await sb.run(["key", "generate", "--out", join(sb.root, "release")])).code).toBe(0);
    const pub = join(sb.root, "release.pub");
    const key = join(sb.root, "release.key");
    const before = Date.now();
    const idx = await sb.run([
      "catalog",
      "index",
      out,
      "--sign-key",
      key,
      "--maintainer",
      "Platform Team <platform@example.test>",
      "--license",
      "Apache-2.0",
      "--json",
    ]);
    expect(idx.code, idx.stderr).toBe(0);
    const result = JSON.parse(idx.stdout);
    expect(result).toMatchObject({ entries: 3, serial: 1, signed: { packagesSigned: 3 } });
    const expires = Date.parse(result.expires);
    expect(expires - before).toBeGreaterThan(29.9 * 86_400_000);
    expect(expires - before).toBeLessThan(30.1 * 86_400_000);
    const doc = parse(readFileSync(join(out, "index.yaml"), "utf8"));
    expect(doc.entries[0]).toMatchObject({ maintainers: ["Platform Team <platform@example.test>"], license: "Apache-2.0" });
    expect(doc.entries[0].created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (const f of ["index.yaml", "app-1.0.0.tgz", "base-1.0.0.tgz", "local-lab-1.0.0.tgz"]) {
      expect(minisignVerifies(pub, join(out, f)), f).toBe(true);
    }

    const url = await serve(out);
    expect((await sb.run(["catalog", "add", "acme", url, "--trust-key", pub])).code).toBe(0);
    const pulled = await sb.run(["addon", "pull", "app", "-o", join(sb.root, "got"), "--json"]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const shown = await sb.run(["addon", "show", "app"]);
    expect(shown.stdout).toContain("maintainers: Platform Team <platform@example.test>\nlicense:     Apache-2.0\ncreated:     ");
    const contents = await sb.run(["addon", "inspect", "app", "--json"]);
    expect(JSON.parse(contents.stdout)).toMatchObject({ name: "app", version: "1.0.0", catalog: "acme" });

    // Re-publishing: serial 2, unchanged packages keep their signatures, metadata and created time.
    const appSig = readFileSync(join(out, "app-1.0.0.tgz.minisig"), "utf8");
    const again = JSON.parse((await sb.run(["catalog", "index", out, "--json"], { PK3S_SIGNING_KEY: readFileSync(key, "utf8") })).stdout);
    expect(again).toMatchObject({ serial: 2, signed: { packagesSigned: 0 } });
    expect(readFileSync(join(out, "app-1.0.0.tgz.minisig"), "utf8")).toBe(appSig);
    const doc2 = parse(readFileSync(join(out, "index.yaml"), "utf8"));
    expect(doc2.entries[0]).toMatchObject({ license: "Apache-2.0", created: doc.entries[0].created });
    expect((await sb.run(["catalog", "update", "acme"])).code).toBe(0);

    const lower = await sb.run(["catalog", "index", out, "--sign-key", key, "--serial", "2"]);
    expect(lower.code).toBe(2);
    expect(lower.stderr).toContain("--serial 2 is not above the previous index's serial 2");
    const short = JSON.parse((await sb.run(["catalog", "index", out, "--sign-key", key, "--expires-in", "2h", "--json"])).stdout);
    expect(Date.parse(short.expires) - Date.now()).toBeLessThan(2 * 3_600_000 + 60_000);
  });

  it("prune rewrites and re-signs a signed index (and refuses to without the key, deleting nothing)", async () => {
    const out = join(sb.root, "public");
    const src = join(sb.root, "src");
    for (const v of ["1.0.0", "1.1.0", "1.2.0"])
      expect((await sb.run(["pack", await writeAddonSource(src, "base", v), "--out", out])).code).toBe(0);
    await sb.run(["key", "generate", "--out", join(sb.root, "release")]);
    const key = join(sb.root, "release.key");
    const pub = join(sb.root, "release.pub");
    expect((await sb.run(["catalog", "index", out, "--sign-key", key])).code).toBe(0);
    const url = await serve(out);
    expect((await sb.run(["catalog", "add", "acme", url, "--trust-key", pub])).code).toBe(0);

    const files = readdirSync(out).sort();
    const noKey = await sb.run(["catalog", "prune", out, "--keep-latest", "1"]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("is signed: pruning rewrites it, so it must be signed again");
    expect(readdirSync(out).sort()).toEqual(files);

    const pruned = await sb.run(["catalog", "prune", out, "--keep-latest", "1", "--sign-key", key, "--json"]);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout).index).toMatchObject({ removedEntries: 2, serial: 2, signed: true });
    // index.d: the index's companions, rewritten to the remaining entries (catalog-companions.integration.test.ts).
    expect(readdirSync(out).sort()).toEqual(["base-1.2.0.tgz", "base-1.2.0.tgz.minisig", "index.d", "index.yaml", "index.yaml.minisig"]);
    expect(parse(readFileSync(join(out, "index.yaml"), "utf8")).entries.map((e: { version: string }) => e.version)).toEqual(["1.2.0"]);
    expect(minisignVerifies(pub, join(out, "index.yaml"))).toBe(true);
    expect((await sb.run(["catalog", "update", "acme"])).code).toBe(0);
    expect((await sb.run(["addon", "pull", "base@1.0.0", "-o", join(sb.root, "got")])).code).toBe(3);
    expect((await sb.run(["addon", "pull", "base", "-o", join(sb.root, "got")])).code).toBe(0);
  });

  it("accepts a catalog signed with the real minisign (its own key, its own signatures)", async () => {
    const out = join(sb.root, "public");
    expect((await sb.run(["pack", await writeAddonSource(join(sb.root, "src"), "base", "1.0.0"), "--out", out])).code).toBe(0);
    const pub = join(sb.root, "ms.pub");
    const key = join(sb.root, "ms.key");
    execFileSync("/usr/bin/minisign", ["-G", "-W", "-p", pub, "-s", key], { stdio: "ignore" });
    // The publisher writes serial and expires with pk3s, unsigned, then signs everything with minisign.
    expect((await sb.run(["catalog", "index", out, "--serial", "7", "--expires-in", "7d"])).code).toBe(0);
    execFileSync("/usr/bin/minisign", ["-S", "-s", key, "-m", join(out, "index.yaml"), join(out, "base-1.0.0.tgz")], { stdio: "ignore" });
    const url = await serve(out);
    const add = await sb.run(["catalog", "add", "ms", url, "--trust-key", pub]);
    expect(add.code, add.stderr).toBe(0);
    expect((await sb.run(["addon", "pull", "base", "-o", join(sb.root, "got")])).code).toBe(0);
    // And pk3s signs with minisign's secret key.
    expect((await sb.run(["catalog", "index", out, "--sign-key", key])).code).toBe(0);
    expect((await sb.run(["catalog", "update", "ms"])).code).toBe(0);
  });
});
