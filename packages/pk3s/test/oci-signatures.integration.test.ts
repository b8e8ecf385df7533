/**
 * Signatures of packages in a REAL OCI registry (Debian docker-registry, distribution 2.8, which has no
 * referrers API: signatures are found under their `sha256-<hex>.sig` tag), with the real `minisign`:
 * `pk3s push --sign-key` signs and pushes the signature; a registry catalog with trusted keys, and an oci://
 * entry in a signed catalog, have each package's signature fetched from the registry and verified over the
 * downloaded bytes before anything is cached or extracted (exit 6 with the reason otherwise).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type OciRegistry, ociRegistryAvailable, startOciRegistry } from "../../../fixtures/oci-registry.js";
import { type RunResult, type Sandbox, sandbox } from "./helpers/cli.js";
import { type PackedAddon, packAddon, pk3sWithStdin, run, sha256, skopeoAvailable, skopeoRaw } from "./helpers/oci.js";

const available = ociRegistryAvailable();
const skopeo = skopeoAvailable();
const minisign = existsSync("/usr/bin/minisign");
if (!available.ok) process.stderr.write(`OCI signature tests skipped: ${available.skip}\n`);

let registry: OciRegistry;
/** The publisher's sandbox: keys and packages, pushing to `repo`. */
let pub: Sandbox;
/** A fresh consumer per test. */
let sb: Sandbox;
let repo: string;
const plain = ["--tls-verify=false"];
let keyId: string;
let otherKeyId: string;
/** Signed with the trusted key. */
let good: PackedAddon;
/** Pushed without a signature. */
let bare: PackedAddon;
/** Signed by a key the consumer does not trust. */
let stranger: PackedAddon;
/** Its "signature" is a valid signature of other bytes (good's), by the trusted key. */
let forged: PackedAddon;

function errorOf(r: RunResult): { reason?: string; message: string } {
  return JSON.parse(r.stdout).error;
}

async function keygen(prefix: string): Promise<string> {
  const r = await pub.run(["key", "generate", "--out", join(pub.root, prefix), "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).keyId as string;
}

async function push(file: string, ...extra: string[]): Promise<Record<string, unknown>> {
  const r = await pub.run(["push", file, `oci://${repo}`, "--json", ...extra]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** What the consumer's package cache holds (nothing unverified may be there). */
function cachedPackages(s: Sandbox): string[] {
  const dir = join(s.env.PK3S_CACHE_DIR!, "packages", "sha256");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

beforeAll(async () => {
  if (!available.ok || !skopeo || !minisign) return;
  registry = await startOciRegistry();
  pub = sandbox();
  repo = `${registry.host}/signed/addons`;
  keyId = await keygen("release");
  otherKeyId = await keygen("other");
  good = await packAddon(pub.root, "good", "1.0.0");
  bare = await packAddon(pub.root, "bare", "1.0.0");
  stranger = await packAddon(pub.root, "stranger", "1.0.0");
  forged = await packAddon(pub.root, "forged", "1.0.0");
  await push(good.file, "--sign-key", join(pub.root, "release.key"));
  await push(bare.file);
  await push(stranger.file, "--sign-key", join(pub.root, "other.key"));
  // A genuine signature by the trusted key, of other bytes, placed beside this package.
  expect((await pub.run(["sign", good.file, "--sign-key", join(pub.root, "release.key")])).code).toBe(0);
  writeFileSync(`${forged.file}.minisig`, readFileSync(`${good.file}.minisig`));
  await push(forged.file);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  pub?.cleanup();
});

beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

describe.skipIf(!available.ok || !skopeo || !minisign)("signed packages in a real OCI registry", () => {
  it("push --sign-key signs with an encrypted key (passphrase from stdin, never printed); minisign -V verifies the pushed signature", {
    timeout: 120_000,
  }, async () => {
    const passphrase = "registry push passphrase";
    const gen = await pk3sWithStdin(
      pub,
      ["key", "generate", "--out", join(pub.root, "enc"), "--passphrase-stdin", "--json"],
      `${passphrase}\n`,
    );
    expect(gen.code, gen.stderr).toBe(0);
    const pkg = await packAddon(pub.root, "encsigned", "1.0.0");
    // A wrong passphrase fails before anything is uploaded.
    const wrong = await pk3sWithStdin(
      pub,
      ["push", pkg.file, `oci://${repo}`, "--sign-key", join(pub.root, "enc.key"), "--passphrase-stdin"],
      "not it\n",
    );
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).not.toContain("not it");
    expect((await run("skopeo", ["inspect", "--raw", ...plain, `docker://${repo}/encsigned:1.0.0`])).code).not.toBe(0);

    const r = await pk3sWithStdin(
      pub,
      ["push", pkg.file, `oci://${repo}`, "--sign-key", join(pub.root, "enc.key"), "--passphrase-stdin", "--json"],
      `${passphrase}\n`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(passphrase);
    const pushed = JSON.parse(r.stdout);
    const tag = `${(pushed.digest as string).replace(":", "-")}.sig`;
    expect(pushed.signature).toMatchObject({ tag, from: "--sign-key" });
    // Nothing is written beside the package: the signature lives in the registry only.
    expect(existsSync(`${pkg.file}.minisig`)).toBe(false);
    const sigManifest = JSON.parse(await skopeoRaw(`${repo}/encsigned:${tag}`, plain));
    expect(sigManifest).toMatchObject({
      artifactType: "application/vnd.productive-k3s.signature.v1",
      subject: { digest: pushed.digest },
    });
    const layer = sigManifest.layers[0] as { digest: string };
    const minisig = Buffer.from(await (await fetch(`${registry.url}/v2/signed/addons/encsigned/blobs/${layer.digest}`)).arrayBuffer());
    expect(sha256(minisig)).toBe(layer.digest);
    writeFileSync(join(pub.root, "encsigned.minisig"), minisig);
    const verified = await run("minisign", [
      "-V",
      "-p",
      join(pub.root, "enc.pub"),
      "-m",
      pkg.file,
      "-x",
      join(pub.root, "encsigned.minisig"),
    ]);
    expect(verified.stdout).toContain("Signature and comment signature verified");
    // The same with the passphrase from the environment, on the unchanged package: only the signature is new.
    const again = await pub.run(["push", pkg.file, `oci://${repo}`, "--sign-key", join(pub.root, "enc.key"), "--json"], {
      PK3S_SIGNING_PASSPHRASE: passphrase,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ action: "unchanged", signature: { tag, from: "--sign-key" } });
  });

  it("a registry catalog with a trusted key installs a signed package, verified before it is cached", async () => {
    const add = await sb.run(["catalog", "add", "reg", `oci://${repo}`, "--trust-key", join(pub.root, "release.pub")]);
    expect(add.code, add.stderr).toBe(0);
    const list = JSON.parse((await sb.run(["catalog", "list", "--json"])).stdout);
    expect(JSON.stringify(list)).toContain(keyId);
    const out = join(sb.root, "out");
    const r = await sb.run(["addon", "pull", "reg/good", "-o", out, "--json", "--require-signatures"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "good-1.0.0.tgz")).equals(good.bytes)).toBe(true);
    expect(cachedPackages(sb)).toEqual([`${good.digest.slice(7)}.tgz`]);
  });

  it("refuses (exit 6, nothing cached or written) an unsigned package, one signed by an untrusted key, and a signature of other bytes", async () => {
    expect((await sb.run(["catalog", "add", "reg", `oci://${repo}`, "--trust-key", join(pub.root, "release.pub")])).code).toBe(0);
    const out = join(sb.root, "out");
    const cases: [string, string, string][] = [
      ["bare", "signature-missing", "is not signed: the registry holds no signature artifact"],
      ["stranger", "signature-untrusted-key", otherKeyId],
      ["forged", "signature-invalid", "forged"],
    ];
    for (const [name, reason, text] of cases) {
      const r = await sb.run(["addon", "pull", `reg/${name}`, "-o", out, "--json"]);
      expect(r.code, `${name}: ${r.stdout}`).toBe(6);
      expect(errorOf(r)).toMatchObject({ reason });
      expect(errorOf(r).message).toContain(text);
      expect(existsSync(join(out, `${name}-1.0.0.tgz`))).toBe(false);
      const install = await sb.run(["addon", "install", `reg/${name}`, "--kubeconfig", "/nonexistent", "--json"]);
      expect(install.code).toBe(6);
    }
    expect(cachedPackages(sb)).toEqual([]);
  });

  it("a copy cached through an unsigned path is not trusted: the registry catalog checks the signature again", async () => {
    // Pulled by direct reference (no catalog, no keys): cached on its digest alone.
    const direct = await sb.run(["addon", "pull", `oci://${repo}/bare:1.0.0`, "-o", join(sb.root, "direct")]);
    expect(direct.code, direct.stderr).toBe(0);
    expect(cachedPackages(sb)).toEqual([`${bare.digest.slice(7)}.tgz`]);
    expect((await sb.run(["catalog", "add", "reg", `oci://${repo}`, "--trust-key", join(pub.root, "release.pub")])).code).toBe(0);
    const r = await sb.run(["addon", "pull", "reg/bare", "-o", join(sb.root, "out"), "--json"]);
    expect(r.code).toBe(6);
    expect(errorOf(r)).toMatchObject({ reason: "signature-missing" });
    expect(existsSync(join(sb.root, "out", "bare-1.0.0.tgz"))).toBe(false);
    // Offline, the signature cannot be fetched: refused rather than trusted on the cached digest.
    const good1 = await sb.run(["addon", "pull", "reg/good", "-o", join(sb.root, "out")]);
    expect(good1.code, good1.stderr).toBe(0);
    const offline = await sb.run(["addon", "pull", "reg/good", "-o", join(sb.root, "out2"), "--offline", "--json"]);
    expect(offline.code).toBe(6);
    expect(errorOf(offline)).toMatchObject({ reason: "signature-unverifiable-offline" });
  });

  it("--require-signatures refuses a registry catalog without trusted keys, and admits it once a key is trusted", async () => {
    expect((await sb.run(["catalog", "add", "reg", `oci://${repo}`])).code).toBe(0);
    const refused = await sb.run(["addon", "pull", "reg/good", "-o", join(sb.root, "out"), "--require-signatures", "--json"]);
    expect(refused.code).toBe(6);
    expect(errorOf(refused)).toMatchObject({ reason: "catalog-unsigned" });
    expect((await sb.run(["catalog", "trust", "add", "reg", join(pub.root, "release.pub")])).code).toBe(0);
    const ok = await sb.run(["addon", "pull", "reg/good", "-o", join(sb.root, "out"), "--require-signatures"]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("--require-signatures refuses a direct oci:// reference (no catalog, so no key vouches for it) before fetching", async () => {
    const r = await sb.run(["addon", "pull", `oci://${repo}/good:1.0.0`, "-o", join(sb.root, "out"), "--json"], {
      PK3S_REQUIRE_SIGNATURES: "1",
    });
    expect(r.code).toBe(6);
    expect(errorOf(r)).toMatchObject({ reason: "reference-unsigned" });
    expect(cachedPackages(sb)).toEqual([]);
    expect(existsSync(join(sb.root, "out"))).toBe(false);
  });

  it("oci:// entries of a signed catalog: each package's signature comes from the registry (exit 6 when missing)", async () => {
    const folder = join(sb.root, "signed-catalog");
    mkdirSync(folder);
    const entry = (p: PackedAddon, name: string) => ({
      name,
      version: "1.0.0",
      type: "addon",
      url: `oci://${repo}/${name}:1.0.0`,
      digest: p.digest,
      size: p.bytes.length,
      description: `${name} from a registry`,
    });
    writeFileSync(
      join(folder, "index.yaml"),
      stringify({
        apiVersion: "catalog.productive-k3s.io/v1",
        kind: "Catalog",
        generated: "2026-11-30T00:00:00Z",
        serial: 1,
        expires: new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d+Z$/, "Z"),
        entries: [entry(good, "good"), entry(bare, "bare")],
      }),
    );
    expect((await pub.run(["sign", join(folder, "index.yaml"), "--sign-key", join(pub.root, "release.key")])).code).toBe(0);
    const add = await sb.run(["catalog", "add", "idx", folder, "--trust-key", join(pub.root, "release.pub")]);
    expect(add.code, add.stderr).toBe(0);
    const out = join(sb.root, "out");
    const ok = await sb.run(["addon", "pull", "idx/good", "-o", out]);
    expect(ok.code, ok.stderr).toBe(0);
    const missing = await sb.run(["addon", "pull", "idx/bare", "-o", out, "--json"]);
    expect(missing.code).toBe(6);
    expect(errorOf(missing)).toMatchObject({ reason: "signature-missing" });
    expect(cachedPackages(sb)).toEqual([`${good.digest.slice(7)}.tgz`]);
  });
});
