/**
 * Catalogs with trusted keys, served over loopback HTTP: every refusal of DESIGN §8 exits 6 with its reason,
 * and after any refusal the cache holds nothing of what was refused. Also: the binding of a package to its
 * entry (every catalog), `--require-signatures`, and a key rotation.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import {
  formatPublicKeyFile,
  generateSecretKey,
  type MinisignSecretKey,
  publicKeyOf,
  signContent,
} from "@productive-k3s/pkg-format/minisign";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { catalogYaml, digestOf, type FakePackage, packagePath, pkg, writeLocalCatalog } from "./helpers/catalogs.js";
import { type RunResult, type Sandbox, sandbox } from "./helpers/cli.js";
import { startServer, type TestServer } from "./helpers/http-server.js";

let sb: Sandbox;
let server: TestServer;
/** What the server publishes, by path (mutable: tests republish). */
let site: Map<string, Buffer>;
let oldKey: MinisignSecretKey;
let newKey: MinisignSecretKey;
let oldPub: string;
let newPub: string;
const app = pkg("app", "1.0.0");
const db = pkg("db", "1.0.0");

beforeEach(async () => {
  sb = sandbox();
  site = new Map();
  server = await startServer();
  for (const path of ["/index.yaml", "/index.yaml.minisig", ...[app, db].flatMap((p) => [packagePath(p), `${packagePath(p)}.minisig`])]) {
    server.route(path, (_req, res) => {
      const body = site.get(path);
      if (body === undefined) {
        res.statusCode = 404;
        res.end("not found");
        return;
      }
      res.writeHead(200, { "content-length": body.length });
      res.end(body);
    });
  }
  oldKey = generateSecretKey();
  newKey = generateSecretKey();
  oldPub = join(sb.root, "old.pub");
  newPub = join(sb.root, "new.pub");
  writeFileSync(oldPub, formatPublicKeyFile(publicKeyOf(oldKey)));
  writeFileSync(newPub, formatPublicKeyFile(publicKeyOf(newKey)));
});
afterEach(async () => {
  await server.close();
  sb.cleanup();
});

const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");

interface Publication {
  serial?: number | undefined;
  expires?: string | undefined;
  packages?: FakePackage[];
  key?: MinisignSecretKey | null;
  /** Sign the packages too (default yes). */
  signPackages?: boolean;
  /** Extra top-level text that changes the index without changing its serial. */
  comment?: string;
}

/** Publish an index (and packages) the way `pk3s catalog index --sign-key` does. Returns the index text. */
async function publish(p: Publication = {}): Promise<string> {
  const packages = p.packages ?? [app, db];
  const doc = parse(catalogYaml(packages)) as Record<string, unknown>;
  if (p.serial !== null) doc.serial = p.serial ?? 1;
  doc.expires = p.expires ?? inDays(30);
  const text = `${p.comment === undefined ? "" : `# ${p.comment}\n`}${stringify(doc)}`;
  site.set("/index.yaml", Buffer.from(text));
  const key = p.key === undefined ? oldKey : p.key;
  if (key === null) site.delete("/index.yaml.minisig");
  else site.set("/index.yaml.minisig", Buffer.from(await signContent({ bytes: Buffer.from(text) }, key)));
  for (const pk of packages) {
    site.set(packagePath(pk), pk.bytes);
    if (key !== null && p.signPackages !== false) {
      site.set(`${packagePath(pk)}.minisig`, Buffer.from(await signContent({ bytes: pk.bytes }, key)));
    } else site.delete(`${packagePath(pk)}.minisig`);
  }
  return text;
}

function cacheRoot(): string {
  return sb.env.PK3S_CACHE_DIR!;
}

/** Every file under the cache (relative paths), for "nothing unverified was cached" assertions. */
function cacheFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(cacheRoot(), p));
    }
  };
  walk(cacheRoot());
  return out.sort();
}

const cachedPackages = (): string[] => cacheFiles().filter((f) => f.startsWith("packages/"));
const cachedIndexes = (): string[] => cacheFiles().filter((f) => f.endsWith("/index.yaml"));

function errorOf(r: RunResult): { reason?: string; message: string } {
  return JSON.parse(r.stdout).error;
}

async function addSigned(...keys: string[]): Promise<RunResult> {
  return sb.run(["catalog", "add", "acme", server.url, ...keys.flatMap((k) => ["--trust-key", k]), "--json"]);
}

describe("a catalog with a trusted key", () => {
  it("verifies the index and each package, shows the key in catalog list, and caches only verified bytes", async () => {
    await publish({ serial: 3 });
    const add = await addSigned(oldPub);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout).catalog).toMatchObject({ signed: true, keyIds: [publicKeyOf(oldKey).id] });
    const list = await sb.run(["catalog", "list"]);
    expect(list.stdout).toContain(`signed (key ${publicKeyOf(oldKey).id})`);
    const pull = await sb.run(["addon", "pull", "app", "-o", join(sb.root, "out"), "--json"]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(readFileSync(join(sb.root, "out", "app-1.0.0.tgz")).equals(app.bytes)).toBe(true);
    expect(cachedPackages()).toEqual([`packages/sha256/${digestOf(app.bytes).slice(7)}.tgz`]);
    const paths = server.requests.map((r) => r.url);
    expect(paths).toEqual(
      expect.arrayContaining(["/index.yaml", "/index.yaml.minisig", "/packages/app-1.0.0.tgz", "/packages/app-1.0.0.tgz.minisig"]),
    );
  });

  it.each([
    ["a missing index signature", async () => publish({ key: null }), "signature-missing", "is not signed"],
    [
      "a malformed index signature",
      async () => {
        await publish();
        site.set("/index.yaml.minisig", Buffer.from("<html>moved</html>\n"));
      },
      "signature-malformed",
      "not a minisign signature",
    ],
    [
      "a tampered index",
      async () => {
        const text = await publish();
        site.set("/index.yaml", Buffer.from(text.replace("test package", "evil package")));
      },
      "signature-invalid",
      "does not match the signed content",
    ],
    ["an index signed by an untrusted key", async () => publish({ key: newKey }), "signature-untrusted-key", "which is not trusted"],
    ["an expired index", async () => publish({ expires: inDays(-1) }), "index-expired", "expired at"],
    ["a signed index without serial", async () => publish({ serial: null as unknown as number }), "index-unversioned", "has no serial"],
  ])("refuses %s (exit 6): nothing saved, nothing cached", async (_what, setup, reason, text) => {
    await setup();
    const r = await addSigned(oldPub);
    expect(r.code, r.stderr).toBe(6);
    expect(errorOf(r).reason).toBe(reason);
    expect(r.stderr).toContain(text);
    expect(existsSync(join(sb.env.PK3S_CONFIG_DIR!, "config.json"))).toBe(false);
    expect(cacheFiles()).toEqual([]);
  });

  it("refuses a rollback to a lower serial and a second index under the same serial; the accepted index stays", async () => {
    const accepted = await publish({ serial: 5 });
    expect((await addSigned(oldPub)).code).toBe(0);
    const acceptedIndex = cachedIndexes();
    expect(acceptedIndex).toHaveLength(1);

    await publish({ serial: 4 });
    const rollback = await sb.run(["catalog", "update", "acme", "--json"]);
    expect(rollback.code).toBe(6);
    expect(errorOf(rollback).reason).toBe("index-rollback");
    expect(rollback.stderr).toContain("index serial 4 is lower than serial 5 already accepted on this machine");

    await publish({ serial: 5, comment: "same serial, other content" });
    const mixed = await sb.run(["catalog", "update", "acme", "--json"]);
    expect(mixed.code).toBe(6);
    expect(errorOf(mixed).reason).toBe("index-serial-reused");

    // Nothing of the refused indexes reached the cache: the accepted one is still there, alone.
    expect(cachedIndexes()).toEqual(acceptedIndex);
    expect(readFileSync(join(cacheRoot(), acceptedIndex[0]!), "utf8")).toBe(accepted);
    expect(cacheFiles().filter((f) => f.includes("/entries-"))).toHaveLength(1);

    // Removing and re-adding the catalog does not forget the serial.
    expect((await sb.run(["catalog", "remove", "acme"])).code).toBe(0);
    await publish({ serial: 4 });
    expect((await addSigned(oldPub)).code).toBe(6);

    await publish({ serial: 6 });
    expect((await addSigned(oldPub)).code).toBe(0);
  });

  it("refuses a tampered package, swapped package signatures and an unsigned package; no bytes are cached", async () => {
    await publish();
    expect((await addSigned(oldPub)).code).toBe(0);

    // Package bytes altered (the index still pins the original digest).
    const altered = Buffer.from(app.bytes);
    altered[altered.length - 10] = altered[altered.length - 10]! ^ 0xff;
    site.set(packagePath(app), altered);
    const tampered = await sb.run(["addon", "pull", "app", "-o", join(sb.root, "out"), "--json"]);
    expect(tampered.code).toBe(6);
    expect(errorOf(tampered).reason).toBe("digest-mismatch");

    // The right bytes, but each package carries the other's signature.
    site.set(packagePath(app), app.bytes);
    const appSig = site.get(`${packagePath(app)}.minisig`)!;
    site.set(`${packagePath(app)}.minisig`, site.get(`${packagePath(db)}.minisig`)!);
    site.set(`${packagePath(db)}.minisig`, appSig);
    for (const name of ["app", "db"]) {
      const swapped = await sb.run(["addon", "pull", name, "-o", join(sb.root, "out"), "--json"]);
      expect(swapped.code, swapped.stderr).toBe(6);
      expect(errorOf(swapped).reason).toBe("signature-invalid");
    }

    site.delete(`${packagePath(app)}.minisig`);
    const unsigned = await sb.run(["addon", "pull", "app", "-o", join(sb.root, "out"), "--json"]);
    expect(unsigned.code).toBe(6);
    expect(errorOf(unsigned).reason).toBe("signature-missing");

    expect(cachedPackages()).toEqual([]);
    expect(existsSync(join(sb.root, "out", "app-1.0.0.tgz"))).toBe(false);
  });

  it("rotates keys: the new key is refused until trusted, both work together, then the old one is dropped", async () => {
    await publish({ serial: 1, key: oldKey });
    expect((await addSigned(oldPub)).code).toBe(0);

    await publish({ serial: 2, key: newKey });
    const early = await sb.run(["catalog", "update", "acme", "--json"]);
    expect(early.code).toBe(6);
    expect(errorOf(early).reason).toBe("signature-untrusted-key");

    const trust = await sb.run(["catalog", "trust", "add", "acme", newPub, "--json"]);
    expect(trust.code, trust.stderr).toBe(0);
    expect(JSON.parse(trust.stdout).keys.map((k: { keyId: string }) => k.keyId)).toEqual([publicKeyOf(oldKey).id, publicKeyOf(newKey).id]);
    expect((await sb.run(["catalog", "update", "acme"])).code).toBe(0);
    expect((await sb.run(["addon", "pull", "app", "-o", join(sb.root, "out")])).code).toBe(0);

    // Old key removed: a cached index it signed is no longer used, and a new index it signs is refused.
    await publish({ serial: 3, key: oldKey });
    expect((await sb.run(["catalog", "update", "acme"])).code).toBe(0);
    const removed = await sb.run(["catalog", "trust", "remove", "acme", publicKeyOf(oldKey).id]);
    expect(removed.code, removed.stderr).toBe(0);
    const offline = await sb.run(["addon", "show", "app", "--offline", "--json"]);
    expect(offline.code).toBe(6);
    expect(errorOf(offline).message).toContain(`signed by key ${publicKeyOf(oldKey).id}, which is no longer trusted`);
    expect((await sb.run(["catalog", "update", "acme", "--json"])).code).toBe(6);
    await publish({ serial: 4, key: newKey });
    expect((await sb.run(["catalog", "update", "acme"])).code).toBe(0);
    const list = await sb.run(["catalog", "trust", "list", "acme"]);
    expect(list.stdout).toBe(`catalog acme trusts 1 key:\n  ${publicKeyOf(newKey).id}  ${publicKeyOf(newKey).base64}\n`);
  });

  it("refuses a cached index once it has expired, offline too", { timeout: 30_000 }, async () => {
    const expires = new Date(Date.now() + 2500).toISOString().replace(/\.\d+Z$/, "Z");
    await publish({ expires });
    expect((await addSigned(oldPub)).code).toBe(0);
    for (let i = 0; i < 100 && Date.now() <= Date.parse(expires); i++) await new Promise((r) => setTimeout(r, 100));
    const r = await sb.run(["addon", "show", "app", "--offline", "--json"]);
    expect(r.code).toBe(6);
    expect(errorOf(r).reason).toBe("index-expired");
  });
});

describe("signature policy", () => {
  it("--require-signatures, PK3S_REQUIRE_SIGNATURES and `catalog trust require on` refuse catalogs without keys", async () => {
    await publish();
    expect((await sb.run(["catalog", "add", "plain", server.url])).code).toBe(0);
    expect((await sb.run(["search", "app"])).code).toBe(0);
    const flag = await sb.run(["search", "app", "--require-signatures", "--json"]);
    expect(flag.code).toBe(6);
    expect(errorOf(flag)).toMatchObject({ reason: "catalog-unsigned" });
    expect((await sb.run(["addon", "pull", "app", "--json"], { PK3S_REQUIRE_SIGNATURES: "1" })).code).toBe(6);
    expect((await sb.run(["catalog", "trust", "require", "on"])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(sb.env.PK3S_CONFIG_DIR!, "config.json"), "utf8")).requireSignatures).toBe(true);
    expect((await sb.run(["addon", "show", "app"])).code).toBe(6);
    expect((await sb.run(["catalog", "trust", "add", "plain", oldPub])).code).toBe(0);
    expect((await sb.run(["addon", "show", "app"])).code).toBe(0);
    expect(cachedPackages()).toEqual([]);
  });

  it("with a built-in catalog: the signed catalog resolves, the unsigned built-in is refused, and holds no keys", async () => {
    const builtin = writeLocalCatalog(join(sb.root, "builtin"), [pkg("extra", "1.0.0")]);
    const env = { PK3S_DEFAULT_CATALOG: builtin };
    await publish();
    const add = await sb.run(["catalog", "add", "acme", server.url, "--trust-key", oldPub], env);
    expect(add.code, add.stderr).toBe(0);
    // The added, signed catalog ranks before the built-in one: its names resolve under --require-signatures.
    const signed = await sb.run(["addon", "pull", "app", "-o", join(sb.root, "out"), "--require-signatures"], env);
    expect(signed.code, signed.stderr).toBe(0);
    // A name only the unsigned built-in catalog has is refused, and nothing of it is cached.
    const unsigned = await sb.run(["addon", "pull", "extra", "-o", join(sb.root, "out"), "--require-signatures", "--json"], env);
    expect(unsigned.code).toBe(6);
    expect(errorOf(unsigned)).toMatchObject({ reason: "catalog-unsigned" });
    expect(existsSync(join(sb.root, "out", "extra-1.0.0.tgz"))).toBe(false);
    expect(cachedPackages()).toEqual([`packages/sha256/${digestOf(app.bytes).slice(7)}.tgz`]);
    // Without the policy the built-in catalog serves as before.
    expect((await sb.run(["addon", "pull", "extra", "-o", join(sb.root, "out")], env)).code).toBe(0);
    // Keys belong to catalogs the user added: a built-in one says how to pin a key for its URL.
    const trust = await sb.run(["catalog", "trust", "add", "local", oldPub], env);
    expect(trust.code).toBe(3);
    expect(trust.stderr).toContain('no catalog named "local" was added with pk3s catalog add');
    expect(trust.stderr).toContain('"local" is built in and holds no keys; add its URL under a name of your own with --trust-key');
    // Restoring a removed built-in catalog with a key would restore it unsigned: refused, nothing changed.
    expect((await sb.run(["catalog", "remove", "local"], env)).code).toBe(0);
    const before = readFileSync(join(sb.env.PK3S_CONFIG_DIR!, "config.json"), "utf8");
    const restore = await sb.run(["catalog", "add", "local", "--trust-key", oldPub], env);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain(
      "error: --trust-key needs a URL or path: without one, catalog add restores a built-in catalog as it is built",
    );
    expect(readFileSync(join(sb.env.PK3S_CONFIG_DIR!, "config.json"), "utf8")).toBe(before);
  });
});

describe("package binding, for every catalog", () => {
  it("refuses an entry whose package is another add-on (rancher 9.9.9 → app's bytes), downloaded or cached", async () => {
    const rancher: FakePackage = { ...pkg("rancher", "9.9.9"), bytes: app.bytes, url: packagePath(app).slice(1) };
    site.set("/index.yaml", Buffer.from(catalogYaml([app, rancher])));
    site.set(packagePath(app), app.bytes);
    expect((await sb.run(["catalog", "add", "plain", server.url])).code).toBe(0);

    const r = await sb.run(["addon", "pull", "rancher@9.9.9", "-o", join(sb.root, "out"), "--json"]);
    expect(r.code).toBe(6);
    expect(errorOf(r)).toMatchObject({ reason: "entry-mismatch" });
    expect(r.stderr).toContain('catalog "plain" lists addon rancher@9.9.9, but its package is addon app@1.0.0');
    expect(cachedPackages()).toEqual([]);

    // Once app is cached (legitimately), the same bytes under rancher's entry are still refused.
    expect((await sb.run(["addon", "pull", "app", "-o", join(sb.root, "out")])).code).toBe(0);
    const cached = await sb.run(["addon", "install", "rancher", "--dry-run", "--core-bin", "/nonexistent/core", "--json"]);
    expect(cached.code).toBe(6);
    expect(errorOf(cached)).toMatchObject({ reason: "entry-mismatch" });
    expect(cachedPackages()).toEqual([`packages/sha256/${digestOf(app.bytes).slice(7)}.tgz`]);
    expect(statSync(join(sb.root, "out", "app-1.0.0.tgz")).size).toBe(app.bytes.length);
    expect(existsSync(join(sb.root, "out", "rancher-9.9.9.tgz"))).toBe(false);
  });

  it("refuses a profile entry whose package is an add-on of the same name and version", async () => {
    const fake: FakePackage = { ...pkg("app", "1.0.0", { type: "profile" }), bytes: app.bytes, url: packagePath(app).slice(1) };
    site.set("/index.yaml", Buffer.from(catalogYaml([fake])));
    site.set(packagePath(app), app.bytes);
    expect((await sb.run(["catalog", "add", "plain", server.url])).code).toBe(0);
    const r = await sb.run(["profile", "pull", "app", "-o", join(sb.root, "out")]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("lists profile app@1.0.0, but its package is addon app@1.0.0");
  });
});
