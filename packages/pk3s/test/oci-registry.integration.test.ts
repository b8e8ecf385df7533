/**
 * pk3s and a REAL OCI registry (Debian docker-registry, distribution 2.8; anonymous, plain HTTP on
 * loopback): push → registry → show/pull/install of oci:// references and of a registry repository as a
 * catalog, with skopeo as the independent client that reads what pk3s pushed, a layer corrupted in the
 * registry's own storage, and the real helm pushing a chart to the same registry.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blobDataPath, type OciRegistry, ociRegistryAvailable, startOciRegistry } from "../../../fixtures/oci-registry.js";
import { realTools } from "../../../fixtures/real-tools.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { type PackedAddon, packAddon, run, sha256, skopeoAvailable, skopeoRaw } from "./helpers/oci.js";
import { readStubLog, stubRuntimes } from "./helpers/stub-runtime.js";

const available = ociRegistryAvailable();
const skopeo = skopeoAvailable();
if (!available.ok) process.stderr.write(`OCI registry tests skipped: ${available.skip}\n`);
if (!skopeo) process.stderr.write("OCI registry tests skipped: no /usr/bin/skopeo (Debian package skopeo)\n");
const tools = await realTools();

let registry: OciRegistry;
let sb: Sandbox;
let base100: PackedAddon;
let base110: PackedAddon;
let base200rc: PackedAddon;
let app: PackedAddon;
/** `127.0.0.1:<port>/team/addons`. */
let repo: string;
const plain = ["--tls-verify=false"];

const cachedFile = (root: Sandbox, digest: string): string =>
  join(root.env.PK3S_CACHE_DIR!, "packages", "sha256", `${digest.slice(7)}.tgz`);

beforeAll(async () => {
  if (!available.ok || !skopeo) return;
  registry = await startOciRegistry();
  sb = sandbox();
  repo = `${registry.host}/team/addons`;
  base100 = await packAddon(sb.root, "base", "1.0.0");
  base110 = await packAddon(sb.root, "base", "1.1.0");
  base200rc = await packAddon(sb.root, "base", "2.0.0-rc.1");
  app = await packAddon(sb.root, "app", "1.0.0", ["name: base\n      version: ^1"]);
});

afterAll(async () => {
  await registry?.stop();
  sb?.cleanup();
});

async function pushJson(file: string, ...extra: string[]): Promise<Record<string, unknown>> {
  const r = await sb.run(["push", file, `oci://${repo}`, "--json", ...extra]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe.skipIf(!available.ok || !skopeo)("pk3s and a real OCI registry (anonymous, plain HTTP on loopback)", () => {
  it("push publishes DESIGN §9's layout: skopeo reads our artifactType, media types, annotations and config", async () => {
    const pushed = await pushJson(base100.file);
    expect(pushed).toMatchObject({
      ok: true,
      name: "base",
      version: "1.0.0",
      kind: "addon",
      reference: `oci://${repo}/base:1.0.0`,
      action: "pushed",
      layer: { digest: base100.digest, size: base100.bytes.length },
      signature: null,
      namesIndex: "added",
    });
    const raw = await skopeoRaw(`${repo}/base:1.0.0`, plain);
    // The digest pk3s prints is the digest of the very bytes the registry serves.
    expect(sha256(raw)).toBe(pushed.digest);
    expect(pushed.pinned).toBe(`oci://${repo}/base@${pushed.digest}`);
    const manifest = JSON.parse(raw);
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: "application/vnd.productive-k3s.addon.v1",
      config: { mediaType: "application/vnd.productive-k3s.package.config.v1+json" },
      layers: [
        {
          mediaType: "application/vnd.productive-k3s.addon.v1.tar+gzip",
          digest: base100.digest,
          size: base100.bytes.length,
          annotations: { "org.opencontainers.image.title": "base-1.0.0.tgz" },
        },
      ],
      annotations: {
        "org.opencontainers.image.title": "base",
        "org.opencontainers.image.version": "1.0.0",
        "org.opencontainers.image.description": "base for index tests",
        "io.productive-k3s.package.kind": "addon",
      },
    });
    expect(manifest.annotations["org.opencontainers.image.created"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The config blob is the package manifest as JSON.
    const config = await (await fetch(`${registry.url}/v2/team/addons/base/blobs/${manifest.config.digest}`)).json();
    expect(config).toMatchObject({
      apiVersion: "addons.productive-k3s.io/v1",
      kind: "Addon",
      metadata: { name: "base", version: "1.0.0" },
    });
    // The repository's names index lists the package.
    const names = JSON.parse(await skopeoRaw(`${repo}:catalog`, plain));
    expect(names.artifactType).toBe("application/vnd.productive-k3s.catalog.v1");
    const list = await (await fetch(`${registry.url}/v2/team/addons/blobs/${names.layers[0].digest}`)).json();
    expect(list).toEqual({ packages: ["base"] });
  });

  it("a published version is immutable: the same bytes again change nothing, other bytes are refused (exit 1) unless --force", async () => {
    const first = await packAddon(sb.root, "immut", "1.0.0");
    const other = await packAddon(sb.root, "immut", "1.0.0", [], "b");
    expect(other.digest).not.toBe(first.digest);
    const pushed = await pushJson(first.file);
    const again = await pushJson(first.file);
    expect(again).toMatchObject({ action: "unchanged", digest: pushed.digest, namesIndex: "present" });

    const refused = await sb.run(["push", other.file, `oci://${repo}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `error: oci://${repo}/immut:1.0.0 already exists with other content (package ${first.digest}; this file is ${other.digest})`,
    );
    expect(refused.stderr).toContain("pass --force to move the tag");
    expect(JSON.parse(await skopeoRaw(`${repo}/immut:1.0.0`, plain)).layers[0].digest).toBe(first.digest);

    const forced = await pushJson(other.file, "--force");
    expect(forced).toMatchObject({ action: "replaced", layer: { digest: other.digest } });
    expect(JSON.parse(await skopeoRaw(`${repo}/immut:1.0.0`, plain)).layers[0].digest).toBe(other.digest);
  });

  it("show and pull oci:// references by tag and by digest; the bytes land in the content-addressed cache", async () => {
    const pushedBase = await pushJson(base110.file);
    await pushJson(app.file);
    const show = await sb.run(["addon", "show", `oci://${repo}/app:1.0.0`, "--json"]);
    expect(show.code).toBe(0);
    const appManifestDigest = sha256(await skopeoRaw(`${repo}/app:1.0.0`, plain));
    expect(JSON.parse(show.stdout).package).toMatchObject({
      name: "app",
      version: "1.0.0",
      type: "addon",
      catalog: `oci://${repo}/app`,
      url: `oci://${repo}/app@${appManifestDigest}`,
      digest: app.digest,
      size: app.bytes.length,
      dependencies: [{ name: "base", version: "^1" }],
      versions: [{ version: "1.0.0", deprecated: false }],
    });

    const byDigest = `oci://${repo}/base@${pushedBase.digest}`;
    const pulled = await sb.run(["addon", "pull", byDigest, "-o", join(sb.root, "pulled"), "--json"]);
    expect(pulled.stderr).toBe("");
    expect(pulled.code).toBe(0);
    const doc = JSON.parse(pulled.stdout);
    expect(doc).toMatchObject({ name: "base", version: "1.1.0", digest: base110.digest, fromCache: false });
    expect(readFileSync(doc.file).equals(base110.bytes)).toBe(true);
    expect(readFileSync(cachedFile(sb, base110.digest)).equals(base110.bytes)).toBe(true);
    const byTag = await sb.run(["addon", "pull", `oci://${repo}/base:1.1.0`, "-o", join(sb.root, "pulled"), "--json"]);
    expect(JSON.parse(byTag.stdout)).toMatchObject({ digest: base110.digest, fromCache: true });

    const versions = await sb.run(["addon", "show", `oci://${repo}/base:1.1.0`, "--json"]);
    expect(JSON.parse(versions.stdout).package.versions.map((v: { version: string }) => v.version)).toEqual(["1.1.0", "1.0.0"]);
  });

  it("wrong kind, missing versions and malformed references get exit 3 or 2 with what to do", async () => {
    const profile = await sb.run(["profile", "show", `oci://${repo}/base:1.0.0`]);
    expect(profile.code).toBe(3);
    expect(profile.stderr).toContain(`error: oci://${repo}/base:1.0.0 is an add-on, not a profile`);
    expect(profile.stderr).toContain(`hint: use pk3s addon ... oci://${repo}/base:1.0.0`);
    const missing = await sb.run(["addon", "pull", `oci://${repo}/base:9.9.9`]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`error: oci://${repo}/base:9.9.9 not found`);
    const noRepo = await sb.run(["addon", "show", `oci://${repo}/nothing-here:1.0.0`]);
    expect(noRepo.code).toBe(3);
    const noVersion = await sb.run(["addon", "show", `oci://${repo}/base`]);
    expect(noVersion.code).toBe(2);
    expect(noVersion.stderr).toContain("it names no version: add :VERSION or @sha256:DIGEST");
    const upper = await sb.run(["addon", "show", `oci://${repo}/Base:1.0.0`]);
    expect(upper.code).toBe(2);
    expect(upper.stderr).toContain('"Base" is not a valid repository path component');
  });

  it("a registry repository as a catalog: names from the names index, versions from tags, semver as for any catalog", async () => {
    await pushJson(base200rc.file);
    const added = await sb.run(["catalog", "add", "reg", `oci://${repo}`, "--json"]);
    expect(added.stderr).toBe("");
    expect(JSON.parse(added.stdout)).toMatchObject({ catalog: { name: "reg", url: `oci://${repo}` }, entries: 5 });
    const search = JSON.parse((await sb.run(["search", "--json"])).stdout);
    const baseRow = search.results.find((r: { name: string; catalog: string }) => r.name === "base" && r.catalog === "reg");
    expect(baseRow.versions).toEqual(["2.0.0-rc.1", "1.1.0", "1.0.0"]);
    // search lists the newest version, as for any catalog; resolution skips pre-releases unless asked.
    expect(baseRow.version).toBe("2.0.0-rc.1");
    const show = (spec: string, ...flags: string[]): Promise<{ version: string; url: string }> =>
      sb.run(["addon", "show", spec, "--json", ...flags]).then((r) => JSON.parse(r.stdout).package);
    expect((await show("reg/base")).version).toBe("1.1.0");
    expect((await show("reg/base@~1.0")).version).toBe("1.0.0");
    expect((await show("reg/base", "--include-prerelease")).version).toBe("2.0.0-rc.1");
    // Entries are pinned to the manifest digest the catalog saw.
    expect((await show("reg/base@1.0.0")).url).toBe(`oci://${repo}/base@${sha256(await skopeoRaw(`${repo}/base:1.0.0`, plain))}`);
  });

  it("install resolves an oci:// add-on's dependencies from the catalogs and hands Core the verified cached files", async () => {
    const stubs = stubRuntimes(join(sb.root, "stubs"));
    const kubeconfig = join(sb.root, "kubeconfig.yaml");
    writeFileSync(
      kubeconfig,
      "apiVersion: v1\nkind: Config\ncurrent-context: lab\ncontexts:\n  - name: lab\n    context: {cluster: lab}\nclusters:\n  - name: lab\n    cluster: {server: https://10.1.2.3:6443}\n",
    );
    const r = await sb.run(["addon", "install", `oci://${repo}/app:1.0.0`, "--kubeconfig", kubeconfig], {
      ...stubs.env,
      STUB_STDOUT_addon_list: JSON.stringify({ ok: true, cluster: { server: "https://10.1.2.3:6443" }, addons: [] }),
    });
    expect(r.stderr).toContain("Resolved base@1.1.0, app@1.0.0");
    expect(r.code).toBe(0);
    expect(readStubLog(stubs.log).map((c) => c.argv.slice(0, 4))).toEqual([
      ["addon", "list", "--json", "--kubeconfig"],
      ["addon", "install", "--tgz", cachedFile(sb, base110.digest)],
      ["addon", "install", "--tgz", cachedFile(sb, app.digest)],
    ]);
  });

  it("without a names index, names come from _catalog, paged with the Link header", async () => {
    // Remove pk3s's names index from the registry (distribution deletes a manifest by digest, tags included).
    const namesDigest = sha256(await skopeoRaw(`${repo}:catalog`, plain));
    const del = await fetch(`${registry.url}/v2/team/addons/manifests/${namesDigest}`, { method: "DELETE" });
    expect(del.status).toBe(202);
    // One repository per page: a catalog that did not follow `Link: <…>; rel="next"` would see one package at most.
    const added = await sb.run(["catalog", "add", "paged", `oci://${repo}`, "--json"], { PK3S_OCI_PAGE_SIZE: "1" });
    expect(added.stderr).toBe("");
    expect(JSON.parse(added.stdout).entries).toBe(5);
    const search = JSON.parse((await sb.run(["search", "--json"])).stdout);
    expect(
      search.results
        .filter((r: { catalog: string }) => r.catalog === "paged")
        .map((r: { name: string }) => r.name)
        .sort(),
    ).toEqual(["app", "base", "immut"]);
  });

  it("a layer corrupted in the registry's storage is refused with exit 6, and nothing is cached", async () => {
    const victim = await packAddon(sb.root, "victim", "1.0.0");
    await pushJson(victim.file);
    const file = blobDataPath(registry, victim.digest);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(file, bytes);
    const fresh = sandbox();
    try {
      const r = await fresh.run(["addon", "pull", `oci://${repo}/victim:1.0.0`, "-o", join(fresh.root, "out")]);
      expect(r.code).toBe(6);
      expect(r.stderr).toContain(`digest mismatch: the manifest says ${victim.digest}, the registry sent sha256:`);
      expect(r.stderr).toContain("nothing was cached");
      const cache = join(fresh.env.PK3S_CACHE_DIR!, "packages");
      expect(existsSync(join(cache, "sha256")) ? readdirSync(join(cache, "sha256")) : []).toEqual([]);
      expect(existsSync(join(cache, "tmp")) ? readdirSync(join(cache, "tmp")) : []).toEqual([]);
      expect(existsSync(join(fresh.root, "out", "victim-1.0.0.tgz"))).toBe(false);
    } finally {
      fresh.cleanup();
    }
  });

  it("catalog entries whose url is oci://: pulled from the registry and checked against the catalog's digest (exit 6 when it differs)", async () => {
    const folder = join(sb.root, "yaml-catalog");
    mkdirSync(folder);
    const pinned = sha256(await skopeoRaw(`${repo}/base:1.0.0`, plain));
    const entry = (version: string, url: string, digest: string, size: number) => ({
      name: "base",
      version,
      type: "addon",
      url,
      digest,
      size,
      description: "base from a registry",
    });
    writeFileSync(
      join(folder, "index.yaml"),
      JSON.stringify({
        apiVersion: "catalog.productive-k3s.io/v1",
        kind: "Catalog",
        generated: "2026-11-30T00:00:00Z",
        entries: [
          entry("1.0.0", `oci://${repo}/base@${pinned}`, base100.digest, base100.bytes.length),
          entry("1.1.0", `oci://${repo}/base:1.1.0`, base110.digest, base110.bytes.length),
          // The registry's 2.0.0-rc.1 is other bytes than this catalog promises.
          entry("2.0.0-rc.1", `oci://${repo}/base:2.0.0-rc.1`, app.digest, base200rc.bytes.length),
        ],
      }),
    );
    expect((await sb.run(["catalog", "add", "yaml", folder])).code).toBe(0);
    const fresh = sandbox();
    try {
      expect((await fresh.run(["catalog", "add", "yaml", folder])).code).toBe(0);
      const out = join(fresh.root, "out");
      const byDigest = await fresh.run(["addon", "pull", "yaml/base@1.0.0", "-o", out, "--json"]);
      expect(byDigest.stderr).toBe("");
      expect(byDigest.code).toBe(0);
      expect(readFileSync(JSON.parse(byDigest.stdout).file).equals(base100.bytes)).toBe(true);
      const byTag = await fresh.run(["addon", "pull", "yaml/base@1.1.0", "-o", out, "--json"]);
      expect(byTag.code).toBe(0);
      expect(JSON.parse(byTag.stdout)).toMatchObject({ version: "1.1.0", digest: base110.digest });
      const lied = await fresh.run(["addon", "pull", "yaml/base@2.0.0-rc.1", "-o", out]);
      expect(lied.code).toBe(6);
      expect(lied.stderr).toContain(app.digest);
      expect(existsSync(join(out, "base-2.0.0-rc.1.tgz"))).toBe(false);
    } finally {
      fresh.cleanup();
    }
  });

  it("a .minisig beside the package travels as a signature artifact referring to it (tag fallback), verifiable by minisign", async () => {
    const signed = await packAddon(sb.root, "signed", "1.0.0");
    const keys = join(sb.root, "minisign");
    mkdirSync(keys);
    const keygen = await run("minisign", ["-G", "-W", "-p", join(keys, "pub"), "-s", join(keys, "sec")]);
    expect(keygen.code).toBe(0);
    expect((await run("minisign", ["-S", "-s", join(keys, "sec"), "-m", signed.file])).code).toBe(0);
    const minisig = readFileSync(`${signed.file}.minisig`);

    const pushed = await pushJson(signed.file);
    const tag = `${(pushed.digest as string).replace(":", "-")}.sig`;
    expect(pushed.signature).toMatchObject({ tag, from: `${signed.file}.minisig` });
    // distribution 2.8 has no referrers API: the signature is found under the sha256-<hex>.sig tag.
    const raw = await skopeoRaw(`${repo}/signed:${tag}`, plain);
    expect(sha256(raw)).toBe((pushed.signature as { digest: string }).digest);
    const sig = JSON.parse(raw);
    expect(sig).toMatchObject({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: "application/vnd.productive-k3s.signature.v1",
      subject: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: pushed.digest },
      layers: [{ mediaType: "application/vnd.productive-k3s.signature.v1+minisign", digest: sha256(minisig), size: minisig.length }],
    });
    // The registry's copy of the signature verifies the package with the real minisign.
    const fromRegistry = Buffer.from(await (await fetch(`${registry.url}/v2/team/addons/signed/blobs/${sha256(minisig)}`)).arrayBuffer());
    writeFileSync(join(keys, "from-registry.minisig"), fromRegistry);
    const verified = await run("minisign", ["-V", "-p", join(keys, "pub"), "-m", signed.file, "-x", join(keys, "from-registry.minisig")]);
    expect(verified.stdout).toContain("Signature and comment signature verified");
    // The signature's tag is not a version.
    const show = await sb.run(["addon", "show", `oci://${repo}/signed:1.0.0`, "--json"]);
    expect(JSON.parse(show.stdout).package.versions).toEqual([{ version: "1.0.0", deprecated: false }]);
  });

  it("a version with build metadata is tagged with _ for + and read back as that version", async () => {
    const meta = await packAddon(sb.root, "meta", "1.0.0+build.7");
    const pushed = await pushJson(meta.file);
    expect(pushed.reference).toBe(`oci://${repo}/meta:1.0.0_build.7`);
    const show = await sb.run(["addon", "show", `oci://${repo}/meta:1.0.0_build.7`, "--json"]);
    expect(show.stderr).toBe("");
    expect(JSON.parse(show.stdout).package).toMatchObject({
      version: "1.0.0+build.7",
      versions: [{ version: "1.0.0+build.7", deprecated: false }],
    });
    // Through the repository as a catalog, the version comes from the tag list alone.
    expect((await sb.run(["catalog", "add", "with-meta", `oci://${repo}`])).code).toBe(0);
    const found = await sb.run(["addon", "show", "with-meta/meta", "--json"]);
    expect(found.stderr).toBe("");
    expect(JSON.parse(found.stdout).package).toMatchObject({ version: "1.0.0+build.7", url: `oci://${repo}/meta@${pushed.digest}` });
  });

  it.skipIf(!tools.ok)("the real helm pushes a chart to the same registry; pk3s says it is not a package (exit 4)", async () => {
    if (!tools.ok) return;
    const env = {
      ...process.env,
      HELM_CACHE_HOME: join(sb.root, "helm", "cache"),
      HELM_CONFIG_HOME: join(sb.root, "helm", "config"),
      HELM_DATA_HOME: join(sb.root, "helm", "data"),
    };
    const helm = (args: string[]) => run(tools.helm, args, { env });
    expect((await helm(["create", join(sb.root, "podinfo")])).code).toBe(0);
    expect((await helm(["package", join(sb.root, "podinfo"), "--destination", sb.root])).code).toBe(0);
    const pushed = await helm(["push", join(sb.root, "podinfo-0.1.0.tgz"), `oci://${registry.host}/charts`, "--plain-http"]);
    expect(pushed.code).toBe(0);
    expect(JSON.parse(await skopeoRaw(`${registry.host}/charts/podinfo:0.1.0`, plain)).config.mediaType).toBe(
      "application/vnd.cncf.helm.config.v1+json",
    );
    const r = await sb.run(["addon", "show", `oci://${registry.host}/charts/podinfo:0.1.0`]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      `error: oci://${registry.host}/charts/podinfo:0.1.0 is not a pk3s package (its type is application/vnd.cncf.helm.config.v1+json)`,
    );
  });
});
