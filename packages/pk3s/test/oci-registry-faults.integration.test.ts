/**
 * pk3s and registries that misbehave, on loopback:
 * - the REAL registry (basic auth) behind a small proxy that redirects blob downloads to another origin,
 *   as registries backed by object storage do: the download follows without the credentials;
 * - fake registries for what a real one does not do on demand: 5xx answers, an unreachable port, an
 *   oversized manifest, a manifest whose bytes do not match the digest asked for.
 * Each ends with a clear error and DESIGN §4's exit code (1 failed, 6 integrity).
 */

import { createReadStream, readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blobDataPath, type OciRegistry, ociRegistryAvailable, startOciRegistry } from "../../../fixtures/oci-registry.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { type PackedAddon, packAddon, pk3sWithStdin, sha256 } from "./helpers/oci.js";

const available = ociRegistryAvailable();
const PASSWORD = "pk3s-faults-pw-41d2";

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

function listen(server: Server): Promise<string> {
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(`127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((ok) => server.close(() => ok()));
}

describe.skipIf(!available.ok)("blob downloads redirected to storage on another origin (real registry behind a proxy)", () => {
  let registry: OciRegistry;
  let proxy: Server;
  let storage: Server;
  let proxyHost: string;
  let storageHost: string;
  const atProxy: Seen[] = [];
  const atStorage: Seen[] = [];
  let sb: Sandbox;
  let base: PackedAddon;

  beforeAll(async () => {
    registry = await startOciRegistry({ htpasswd: { ci: PASSWORD } });
    // Storage: serves a blob straight from the registry's files, to whoever asks (as a pre-signed URL would).
    storage = createServer((req, res) => {
      atStorage.push({ method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers });
      const digest = (req.url ?? "").replace(/^\/blobs\//, "");
      res.writeHead(200, { "content-type": "application/octet-stream" });
      createReadStream(blobDataPath(registry, digest)).pipe(res);
    });
    storageHost = await listen(storage);
    // The proxy forwards everything to the registry, except blob GETs: 307 to the storage origin.
    proxy = createServer((req, res) => {
      const path = req.url ?? "/";
      atProxy.push({ method: req.method ?? "GET", path, headers: req.headers });
      const blob = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path);
      if (req.method === "GET" && blob !== null) {
        res.writeHead(307, { location: `http://${storageHost}/blobs/${blob[1]}` });
        res.end();
        return;
      }
      const upstream = request(`${registry.url}${path}`, { method: req.method, headers: { ...req.headers, host: registry.host } }, (up) => {
        const headers = { ...up.headers };
        // Upload locations name the registry; keep the client on the proxy.
        if (typeof headers.location === "string") headers.location = headers.location.replace(registry.host, proxyHost);
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    proxyHost = await listen(proxy);
    sb = sandbox();
    base = await packAddon(sb.root, "base", "1.0.0");
  });
  afterAll(async () => {
    await close(proxy);
    await close(storage);
    await registry?.stop();
    sb?.cleanup();
  });

  it("the credentials go to the registry only; the redirected download is verified and cached", async () => {
    const login = await pk3sWithStdin(sb, ["registry", "login", proxyHost, "--username", "ci", "--password-stdin"], PASSWORD);
    expect(login.stderr).toBe("");
    expect(login.code).toBe(0);
    const pushed = await sb.run(["push", base.file, `oci://${proxyHost}/team/addons`]);
    expect(pushed.stderr).toBe("");
    expect(pushed.code).toBe(0);

    const pulled = await sb.run(["addon", "pull", `oci://${proxyHost}/team/addons/base:1.0.0`, "-o", join(sb.root, "out"), "--json"]);
    expect(pulled.stderr).toBe("");
    expect(pulled.code).toBe(0);
    expect(readFileSync(JSON.parse(pulled.stdout).file).equals(base.bytes)).toBe(true);

    const basic = `Basic ${Buffer.from(`ci:${PASSWORD}`).toString("base64")}`;
    const manifestGet = atProxy.find((s) => s.method === "GET" && s.path === "/v2/team/addons/base/manifests/1.0.0");
    expect(manifestGet?.headers.authorization).toBe(basic);
    const blobGet = atProxy.find((s) => s.method === "GET" && s.path === `/v2/team/addons/base/blobs/${base.digest}`);
    expect(blobGet?.headers.authorization).toBe(basic);
    // Every blob download (names index, config, the layer) went to storage, and none carried the credentials.
    expect(atStorage.map((s) => s.path)).toContain(`/blobs/${base.digest}`);
    expect(atStorage.map((s) => s.headers.authorization)).toEqual(atStorage.map(() => undefined));
    expect(JSON.stringify(atStorage)).not.toContain(Buffer.from(`ci:${PASSWORD}`).toString("base64"));
  });
});

describe("registries that fail", () => {
  let fake: Server;
  let host: string;
  let sb: Sandbox;
  /** What the fake answers for each manifest request; /v2/ is always 200. */
  let manifest: (path: string) => { status: number; body: Buffer; headers?: Record<string, string> };

  beforeAll(async () => {
    fake = createServer((req, res) => {
      if (req.url === "/v2/") {
        res.writeHead(200, { "docker-distribution-api-version": "registry/2.0", "content-type": "application/json" });
        res.end("{}");
        return;
      }
      const answer = manifest(req.url ?? "/");
      res.writeHead(answer.status, { "content-length": String(answer.body.length), ...answer.headers });
      res.end(answer.body);
    });
    host = await listen(fake);
    sb = sandbox();
  });
  afterAll(async () => {
    await close(fake);
    sb?.cleanup();
  });

  it("5xx: retried, then a clear failure (exit 1) naming the registry and the status", async () => {
    let hits = 0;
    manifest = () => {
      hits++;
      return { status: 503, body: Buffer.from('{"errors":[{"code":"UNAVAILABLE","message":"storage is down"}]}') };
    };
    const r = await sb.run(["addon", "show", `oci://${host}/team/addons/base:1.0.0`], { PK3S_HTTP_RETRIES: "2" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: manifest oci://${host}/team/addons/base:1.0.0: HTTP 503 from http://${host}/v2/team/addons/base/manifests/1.0.0 (gave up after 2 attempts)`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(hits).toBe(2);
  });

  it("an unreachable registry: exit 1 naming the host", async () => {
    const closed = createServer();
    const gone = await listen(closed);
    await close(closed);
    const r = await sb.run(["addon", "pull", `oci://${gone}/team/addons/base:1.0.0`], { PK3S_HTTP_RETRIES: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: registry ${gone}: connection failed (ECONNREFUSED`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a manifest over the size cap: exit 6, read no further", async () => {
    manifest = () => ({
      status: 200,
      body: Buffer.alloc(5 * 1024 * 1024, 0x20),
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
    const r = await sb.run(["addon", "show", `oci://${host}/team/addons/base:1.0.0`]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`is ${5 * 1024 * 1024} bytes, more than the expected ${4 * 1024 * 1024}`);
  });

  it("a manifest whose bytes are not the digest asked for: exit 6", async () => {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", layers: [] }));
    const asked = sha256("something else");
    manifest = () => ({ status: 200, body, headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } });
    const r = await sb.run(["addon", "show", `oci://${host}/team/addons/base@${asked}`]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`the registry sent a manifest whose digest is ${sha256(body)}`);
  });
});
