/**
 * Verified downloads and catalog fetching over loopback HTTP(S), through the
 * built binary: auth, redirects, retries, digests, truncation, 404, stalls.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { catalogYaml, digestOf, type FakePackage, packageBytes, packagePath, pkg } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { makeCertificate, serveBytes, startHttpsServer, startServer, type TestServer } from "./helpers/http-server.js";

let sb: Sandbox;
const servers: TestServer[] = [];

async function server(): Promise<TestServer> {
  const s = await startServer();
  servers.push(s);
  return s;
}

function cachedPackages(): string[] {
  const dir = join(sb.env.PK3S_CACHE_DIR!, "packages");
  const out: string[] = [];
  for (const sub of ["sha256", "tmp"]) {
    const d = join(dir, sub);
    if (existsSync(d)) out.push(...readdirSync(d).map((f) => `${sub}/${f}`));
  }
  return out;
}

function serveCatalog(s: TestServer, packages: FakePackage[], opts: { token?: string } = {}): void {
  const guard =
    (fn: Parameters<TestServer["route"]>[1]): Parameters<TestServer["route"]>[1] =>
    (req, res, n) => {
      if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
        res.writeHead(401, { "www-authenticate": "Bearer" });
        res.end("unauthorized");
        return;
      }
      fn(req, res, n);
    };
  s.route("/index.yaml", guard(serveBytes(catalogYaml(packages), "application/yaml")));
  for (const p of packages) if (p.url === undefined) s.route(packagePath(p), guard(serveBytes(p.bytes)));
}

const noStack = (text: string): void => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

beforeEach(() => {
  sb = sandbox();
});
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
  sb.cleanup();
});

describe("private catalog with a bearer token", () => {
  it("sends the token, never stores it, and reports a wrong token clearly", async () => {
    const s = await server();
    const p = pkg("longhorn", "1.0.0");
    serveCatalog(s, [p], { token: "s3cret-token" });
    expect((await sb.run(["catalog", "add", "priv", s.url, "--token-env", "PRIV_TOKEN", "--offline"])).code).toBe(0);
    const config = join(sb.env.PK3S_CONFIG_DIR!, "config.json");
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(readFileSync(config, "utf8")).not.toContain("s3cret");
    expect(JSON.parse(readFileSync(config, "utf8")).catalogs[0].auth).toEqual({ type: "bearer", tokenEnv: "PRIV_TOKEN" });

    const ok = await sb.run(["search", "--json"], { PRIV_TOKEN: "s3cret-token" });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).results.map((r: { name: string }) => r.name)).toEqual(["longhorn"]);
    const out = join(sb.root, "out");
    const pulled = await sb.run(["addon", "pull", "longhorn", "--output", out], { PRIV_TOKEN: "s3cret-token" });
    expect(pulled.code).toBe(0);
    expect(readFileSync(join(out, "longhorn-1.0.0.tgz"))).toEqual(p.bytes);

    const bad = await sb.run(["catalog", "update"], { PRIV_TOKEN: "wrong-token" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('catalog "priv"');
    expect(bad.stderr).toContain("HTTP 401");
    expect(bad.stderr).toContain("credentials were rejected");
    expect(bad.stderr + bad.stdout).not.toContain("wrong-token");
    noStack(bad.stderr);

    const missing = await sb.run(["catalog", "update"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("PRIV_TOKEN is not set");
  });

  it("uses a 0600 credentials file and refuses a readable one", async () => {
    const s = await server();
    serveCatalog(s, [pkg("a", "1.0.0")], { token: "filetoken" });
    await sb.run(["catalog", "add", "priv", s.url, "--offline"]);
    const { writeFileSync, chmodSync } = await import("node:fs");
    const creds = join(sb.root, "creds.json");
    writeFileSync(creds, JSON.stringify({ priv: { token: "filetoken" } }));
    chmodSync(creds, 0o644);
    const refused = await sb.run(["catalog", "update"], { PK3S_CREDENTIALS_FILE: creds });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("chmod 600");
    chmodSync(creds, 0o600);
    const ok = await sb.run(["catalog", "update", "--json"], { PK3S_CREDENTIALS_FILE: creds });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).catalogs[0]).toMatchObject({ name: "priv", entries: 1, origin: "network" });
  });
});

describe("redirects", () => {
  it("never forwards credentials to another origin", async () => {
    const a = await server();
    const b = await server();
    const p = pkg("longhorn", "1.0.0", {});
    p.url = "packages/longhorn-1.0.0.tgz";
    a.route("/index.yaml", (req, res) => {
      if (req.headers.authorization !== "Bearer tok") {
        res.statusCode = 401;
        res.end();
        return;
      }
      serveBytes(catalogYaml([p]))(req, res, 1);
    });
    a.route("/packages/longhorn-1.0.0.tgz", (_req, res) => {
      res.writeHead(302, { location: `${b.origin}/blobs/longhorn.tgz` });
      res.end();
    });
    b.route("/blobs/longhorn.tgz", serveBytes(p.bytes));
    await sb.run(["catalog", "add", "priv", `${a.url}index.yaml`, "--token-env", "TOK", "--offline"]);
    const r = await sb.run(["addon", "pull", "longhorn", "--output", join(sb.root, "out")], { TOK: "tok" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const atA = a.requests.find((q) => q.url === "/packages/longhorn-1.0.0.tgz");
    expect(atA?.headers.authorization).toBe("Bearer tok");
    expect(b.requests).toHaveLength(1);
    expect(b.requests[0]!.headers.authorization).toBeUndefined();
  });

  it("does not send credentials again when a redirect away leads back to the catalog's origin", async () => {
    const a = await server();
    const b = await server();
    const p = pkg("boomerang", "1.0.0");
    a.route("/index.yaml", serveBytes(catalogYaml([p])));
    a.route(packagePath(p), (_req, res) => {
      res.writeHead(302, { location: `${b.origin}/bounce` });
      res.end();
    });
    b.route("/bounce", (_req, res) => {
      res.writeHead(302, { location: `${a.origin}/landing.tgz` });
      res.end();
    });
    a.route("/landing.tgz", serveBytes(p.bytes));
    await sb.run(["catalog", "add", "priv", a.url, "--token-env", "TOK", "--offline"]);
    const r = await sb.run(["addon", "pull", "boomerang", "--output", join(sb.root, "out")], { TOK: "tok" });
    expect(r.code).toBe(0);
    expect(a.requests.find((q) => q.url === packagePath(p))?.headers.authorization).toBe("Bearer tok");
    expect(b.requests[0]?.headers.authorization).toBeUndefined();
    expect(a.requests.find((q) => q.url === "/landing.tgz")?.headers.authorization).toBeUndefined();
  });

  it("refuses a redirect from https to http", async () => {
    const tls = makeCertificate(sb.root);
    const secure = await startHttpsServer(tls);
    servers.push(secure);
    const plain = await server();
    const p = pkg("nginx", "1.0.0");
    secure.route("/index.yaml", serveBytes(catalogYaml([p])));
    secure.route(packagePath(p), (_req, res) => {
      res.writeHead(301, { location: `${plain.origin}${packagePath(p)}` });
      res.end();
    });
    plain.route(packagePath(p), serveBytes(p.bytes));
    await sb.run(["catalog", "add", "sec", secure.url, "--offline"]);
    const r = await sb.run(["addon", "pull", "nginx", "--output", join(sb.root, "out")], { NODE_EXTRA_CA_CERTS: tls.certFile });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("refused redirect from https to http");
    expect(plain.requests).toHaveLength(0);
    expect(cachedPackages()).toEqual([]);
  });
});

describe("faults", () => {
  it("retries a connection reset mid-body and then succeeds", async () => {
    const s = await server();
    const p = pkg("longhorn", "1.0.0", { bytes: packageBytes("longhorn", "1.0.0", "addon", 256 * 1024) });
    serveCatalog(s, [p]);
    s.route(packagePath(p), (_req, res, n) => {
      res.writeHead(200, { "content-length": p.bytes.length });
      if (n === 1) {
        res.write(p.bytes.subarray(0, 1000));
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      res.end(p.bytes);
    });
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const r = await sb.run(["addon", "pull", "longhorn", "--output", join(sb.root, "out"), "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("retrying");
    expect(s.requests.filter((q) => q.url === packagePath(p))).toHaveLength(2);
    expect(readFileSync(join(sb.root, "out", "longhorn-1.0.0.tgz"))).toEqual(p.bytes);
    expect(JSON.parse(r.stdout)).toMatchObject({ digest: digestOf(p.bytes), fromCache: false });
    expect(cachedPackages()).toEqual([`sha256/${digestOf(p.bytes).slice(7)}.tgz`]);
  });

  it("honours Retry-After on 503 and 429", async () => {
    const s = await server();
    const p = pkg("a", "1.0.0");
    serveCatalog(s, [p]);
    s.route(packagePath(p), (req, res, n) => {
      if (n <= 2) {
        res.writeHead(n === 1 ? 503 : 429, { "retry-after": "0" });
        res.end();
        return;
      }
      serveBytes(p.bytes)(req, res, n);
    });
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const r = await sb.run(["addon", "pull", "a", "--output", join(sb.root, "out")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("HTTP 503");
    expect(r.stderr).toContain("HTTP 429");
  });

  it("exits 6 on a digest mismatch and caches nothing", async () => {
    const s = await server();
    const p = pkg("longhorn", "1.0.0");
    serveCatalog(s, [p]);
    const evil = Buffer.from(p.bytes);
    evil[10] = evil[10]! ^ 0xff;
    s.route(packagePath(p), serveBytes(evil));
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const r = await sb.run(["addon", "pull", "longhorn", "--output", join(sb.root, "out")]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("digest mismatch");
    expect(r.stderr).toContain(digestOf(p.bytes));
    noStack(r.stderr);
    expect(cachedPackages()).toEqual([]);
    expect(existsSync(join(sb.root, "out", "longhorn-1.0.0.tgz"))).toBe(false);
  });

  it("fails on a body that is always cut short, naming the URL, and caches nothing", async () => {
    const s = await server();
    const p = pkg("longhorn", "1.0.0");
    serveCatalog(s, [p]);
    s.route(packagePath(p), (_req, res) => {
      res.writeHead(200, { "content-length": p.bytes.length });
      res.write(p.bytes.subarray(0, 100));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const r = await sb.run(["addon", "pull", "longhorn", "--output", join(sb.root, "out")], { PK3S_HTTP_RETRIES: "2" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${s.origin}${packagePath(p)}`);
    expect(r.stderr).toContain("gave up after 2 attempts");
    expect(s.requests.filter((q) => q.url === packagePath(p))).toHaveLength(2);
    expect(cachedPackages()).toEqual([]);
  });

  it("exits 6 when a body without Content-Length is shorter than the catalog's size", async () => {
    const s = await server();
    const p = pkg("longhorn", "1.0.0");
    serveCatalog(s, [p]);
    s.route(packagePath(p), (_req, res) => {
      res.writeHead(200, { "transfer-encoding": "chunked" });
      res.end(p.bytes.subarray(0, 200));
    });
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const r = await sb.run(["addon", "pull", "longhorn", "--output", join(sb.root, "out")]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`received 200 bytes but the catalog says ${p.bytes.length}`);
    expect(cachedPackages()).toEqual([]);
  });

  it("refuses a body larger than the catalog's size", async () => {
    const s = await server();
    const p = pkg("longhorn", "1.0.0");
    serveCatalog(s, [p]);
    s.route(packagePath(p), (_req, res) => {
      res.writeHead(200, { "transfer-encoding": "chunked" });
      res.end(Buffer.concat([p.bytes, Buffer.alloc(5000)]));
    });
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const r = await sb.run(["addon", "pull", "longhorn", "--output", join(sb.root, "out")]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("more than");
    expect(cachedPackages()).toEqual([]);
  });

  it("exits 3 on 404 for a package and for a catalog", async () => {
    const s = await server();
    const p = pkg("longhorn", "1.0.0");
    s.route("/index.yaml", serveBytes(catalogYaml([p])));
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const r = await sb.run(["addon", "pull", "longhorn"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`not found (HTTP 404) at ${s.origin}${packagePath(p)}`);
    await sb.run(["catalog", "add", "gone", `${s.url}missing/index.yaml`, "--offline"]);
    const c = await sb.run(["catalog", "update", "gone"]);
    expect(c.code).toBe(3);
    expect(c.stderr).toContain('catalog "gone"');
  });

  it("times out on a stalled server within the configured bound", async () => {
    const s = await server();
    const p = pkg("longhorn", "1.0.0");
    serveCatalog(s, [p]);
    s.route(packagePath(p), (_req, res) => {
      res.writeHead(200, { "content-length": p.bytes.length });
      res.write(p.bytes.subarray(0, 10)); // then nothing, ever
    });
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const started = Date.now();
    const r = await sb.run(["addon", "pull", "longhorn"], { PK3S_HTTP_TIMEOUT: "0.5" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("timed out after 0.5s waiting for data");
    expect(r.stderr).toContain(`${s.origin}${packagePath(p)}`);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(cachedPackages()).toEqual([]);
  });

  it("refuses an entry without a digest unless --allow-unverified", async () => {
    const s = await server();
    const p = pkg("nodigest", "1.0.0", { digest: null });
    serveCatalog(s, [p]);
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const refused = await sb.run(["addon", "pull", "nodigest"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("--allow-unverified");
    expect(s.requests.some((q) => q.url === packagePath(p))).toBe(false);
    const allowed = await sb.run(["addon", "pull", "nodigest", "--allow-unverified", "--output", join(sb.root, "o")]);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toContain("UNVERIFIED");
  });
});

describe("hostile catalogs", () => {
  it("a remote catalog cannot point pk3s at local files", async () => {
    const s = await server();
    const local = pkg("sneaky", "1.0.0", { url: "file:///etc/hostname" });
    s.route("/index.yaml", serveBytes(catalogYaml([local, pkg("fine", "1.0.0")])));
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const r = await sb.run(["addon", "pull", "sneaky"]);
    expect(r.code).toBe(3);
    const update = await sb.run(["catalog", "update"]);
    expect(update.stderr).toContain('entry sneaky@1.0.0: URL "file:///etc/hostname" is not allowed in a remote catalog');
  });
});

describe("catalog cache", () => {
  it("uses conditional GETs, the TTL and --offline", async () => {
    const s = await server();
    const p = pkg("longhorn", "1.0.0");
    const body = catalogYaml([p]);
    s.route("/index.yaml", (req, res) => {
      if (req.headers["if-none-match"] === '"v1"') {
        res.writeHead(304, { etag: '"v1"' });
        res.end();
        return;
      }
      res.writeHead(200, { etag: '"v1"', "content-type": "application/yaml" });
      res.end(body);
    });
    s.route(packagePath(p), serveBytes(p.bytes));
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);

    const offlineEmpty = await sb.run(["search", "--offline"]);
    expect(offlineEmpty.code).toBe(3);
    expect(offlineEmpty.stderr).toContain("pk3s catalog update");
    expect(s.requests).toHaveLength(0);

    const first = await sb.run(["catalog", "update", "--json"]);
    expect(JSON.parse(first.stdout).catalogs[0].origin).toBe("network");
    const second = await sb.run(["catalog", "update", "--json"]);
    expect(JSON.parse(second.stdout).catalogs[0].origin).toBe("revalidated");
    expect(s.requests[1]!.headers["if-none-match"]).toBe('"v1"');

    // Within the TTL, search reads the cache without a request.
    const before = s.requests.length;
    expect((await sb.run(["search", "longhorn"])).code).toBe(0);
    expect(s.requests.length).toBe(before);
    // TTL 0: every command revalidates.
    expect((await sb.run(["search", "longhorn"], { PK3S_CATALOG_TTL: "0" })).code).toBe(0);
    expect(s.requests.length).toBe(before + 1);

    // Offline with a cached catalog works and makes no request, even with TTL 0.
    const n = s.requests.length;
    const offline = await sb.run(["addon", "show", "longhorn", "--offline", "--json"], { PK3S_CATALOG_TTL: "0" });
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout).package.version).toBe("1.0.0");
    const notCached = await sb.run(["addon", "pull", "longhorn", "--offline"]);
    expect(notCached.code).toBe(3);
    expect(notCached.stderr).toContain("--offline");
    expect(s.requests.length).toBe(n);

    // Once pulled, the package is served from the verified cache offline.
    expect((await sb.run(["addon", "pull", "longhorn", "--output", join(sb.root, "a")])).code).toBe(0);
    const m = s.requests.length;
    const again = await sb.run(["addon", "pull", "longhorn", "--offline", "--json", "--output", join(sb.root, "b")]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).fromCache).toBe(true);
    expect(s.requests.length).toBe(m);
  });

  it("evicts a tampered cached package and downloads it again", async () => {
    const s = await server();
    const p = pkg("longhorn", "1.0.0");
    serveCatalog(s, [p]);
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    expect((await sb.run(["addon", "pull", "longhorn", "--output", join(sb.root, "a")])).code).toBe(0);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(sb.env.PK3S_CACHE_DIR!, "packages", "sha256", `${digestOf(p.bytes).slice(7)}.tgz`), "tampered");
    const r = await sb.run(["addon", "pull", "longhorn", "--json", "--output", join(sb.root, "b")]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).fromCache).toBe(false);
    expect(readFileSync(join(sb.root, "b", "longhorn-1.0.0.tgz"))).toEqual(p.bytes);
  });
});
