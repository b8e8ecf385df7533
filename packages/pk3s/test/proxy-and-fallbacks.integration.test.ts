/** HTTP(S)_PROXY / NO_PROXY, basic auth, and the stale-cache fallback when a catalog is unreachable. */

import { readFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { catalogYaml, packagePath, pkg } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { makeCertificate, serveBytes, startHttpsServer, startServer, type TestServer } from "./helpers/http-server.js";

interface Proxy {
  url: string;
  seen: string[];
  /** Proxy-Authorization headers received, in order. */
  auth: (string | undefined)[];
  close(): Promise<void>;
}

/** A forward proxy on loopback: CONNECT tunnels and absolute-URI requests, each recorded. */
function startProxy(): Promise<Proxy> {
  const seen: string[] = [];
  const auth: (string | undefined)[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    auth.push(req.headers["proxy-authorization"]);
    const target = new URL(req.url ?? "");
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  server.on("connect", (req, client: Socket, head) => {
    seen.push(`CONNECT ${req.url}`);
    auth.push(req.headers["proxy-authorization"]);
    const [host, port] = (req.url ?? "").split(":");
    const upstream = connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    sockets.add(client);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  server.on("connection", (s) => sockets.add(s));
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        seen,
        auth,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

let sb: Sandbox;
let s: TestServer;
beforeEach(async () => {
  sb = sandbox();
  s = await startServer();
});
afterEach(async () => {
  await s.close();
  sb.cleanup();
});

describe("proxies", () => {
  it("goes through HTTP_PROXY, and around it for NO_PROXY hosts", async () => {
    const proxy = await startProxy();
    try {
      const p = pkg("viaproxy", "1.0.0");
      s.route("/index.yaml", serveBytes(catalogYaml([p])));
      s.route(packagePath(p), serveBytes(p.bytes));
      await sb.run(["catalog", "add", "main", s.url]);
      const r = await sb.run(["addon", "pull", "viaproxy", "--output", join(sb.root, "out")], { HTTP_PROXY: proxy.url });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const host = new URL(s.url).host;
      expect(proxy.seen.some((line) => line.includes(host))).toBe(true);
      const before = proxy.seen.length;
      const bypass = await sb.run(["catalog", "update"], { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" });
      expect(bypass.code).toBe(0);
      expect(proxy.seen.length).toBe(before);
    } finally {
      await proxy.close();
    }
  });
});

describe("https through a proxy", () => {
  it("tunnels with CONNECT, reuses the tunnel, sends proxy credentials only to the proxy, and honours NO_PROXY", async () => {
    const tls = makeCertificate(sb.root);
    const secure = await startHttpsServer(tls);
    const proxy = await startProxy();
    try {
      const p = pkg("tunnelled", "1.0.0");
      secure.route("/index.yaml", serveBytes(catalogYaml([p])));
      secure.route(packagePath(p), serveBytes(p.bytes));
      const authedProxy = proxy.url.replace("http://", "http://proxyuser:proxy%20pw@");
      const env = { NODE_EXTRA_CA_CERTS: tls.certFile, HTTPS_PROXY: authedProxy };
      expect((await sb.run(["catalog", "add", "sec", secure.url, "--offline"])).code).toBe(0);
      const r = await sb.run(["addon", "pull", "tunnelled", "--output", join(sb.root, "out")], env);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(readFileSync(join(sb.root, "out", "tunnelled-1.0.0.tgz"))).toEqual(p.bytes);
      const target = new URL(secure.url).host;
      // The index and the package travel through one tunnel (one TLS connection at the origin).
      expect(proxy.seen).toEqual([`CONNECT ${target}`]);
      expect(proxy.auth).toEqual([`Basic ${Buffer.from("proxyuser:proxy pw").toString("base64")}`]);
      expect(secure.requests.map((q) => q.url)).toEqual(["/index.yaml", packagePath(p)]);
      expect(secure.connections).toBe(1);
      expect(secure.requests.every((q) => q.headers["proxy-authorization"] === undefined)).toBe(true);

      const bypass = await sb.run(["catalog", "update"], { ...env, NO_PROXY: "localhost, 127.0.0.1" });
      expect(bypass.code).toBe(0);
      expect(proxy.seen).toHaveLength(1);
      expect(secure.requests).toHaveLength(3);
    } finally {
      await proxy.close();
      await secure.close();
    }
  });

  it("reports a proxy that refuses the tunnel without leaking the proxy's credentials", async () => {
    const refusing = createServer((_req, res) => res.end());
    refusing.on("connect", (_req, client: Socket) => {
      client.end("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const port = (refusing.address() as AddressInfo).port;
      await sb.run(["catalog", "add", "sec", "https://127.0.0.1:9/index.yaml", "--offline"]);
      const r = await sb.run(["catalog", "update"], { HTTPS_PROXY: `http://u:topsecret@127.0.0.1:${port}`, PK3S_HTTP_RETRIES: "1" });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`refused the tunnel to 127.0.0.1:9 (HTTP 407)`);
      expect(r.stderr).not.toContain("topsecret");
      expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    } finally {
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });
});

describe("keep-alive", () => {
  it("fetches the index and the package over one connection", async () => {
    const p = pkg("reused", "1.0.0");
    s.route("/index.yaml", serveBytes(catalogYaml([p])));
    s.route(packagePath(p), serveBytes(p.bytes));
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const r = await sb.run(["addon", "pull", "reused", "--output", join(sb.root, "out")]);
    expect(r.code).toBe(0);
    expect(s.requests.map((q) => q.url)).toEqual(["/index.yaml", packagePath(p)]);
    expect(s.connections).toBe(1);
  });
});

describe("basic auth and fallbacks", () => {
  it("sends basic credentials from the environment", async () => {
    const expected = `Basic ${Buffer.from("ci:pa55").toString("base64")}`;
    s.route("/index.yaml", (req, res, n) => {
      if (req.headers.authorization !== expected) {
        res.statusCode = 401;
        res.end();
        return;
      }
      serveBytes(catalogYaml([pkg("a", "1.0.0")]))(req, res, n);
    });
    const wrongAtAdd = await sb.run(["catalog", "add", "priv", s.url, "--username", "ci", "--password-env", "PRIV_PW"], {
      PRIV_PW: "nope",
    });
    expect(wrongAtAdd.code).toBe(1);
    expect(wrongAtAdd.stderr).toContain("HTTP 401");
    expect(
      (await sb.run(["catalog", "add", "priv", s.url, "--username", "ci", "--password-env", "PRIV_PW"], { PRIV_PW: "pa55" })).code,
    ).toBe(0);
    expect((await sb.run(["catalog", "update"], { PRIV_PW: "pa55" })).code).toBe(0);
    const bad = await sb.run(["catalog", "update"], { PRIV_PW: "nope" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("HTTP 401");
  });

  it("uses a stale cached index, with a warning, when the catalog is unreachable", async () => {
    s.route("/index.yaml", serveBytes(catalogYaml([pkg("cached", "1.0.0")])));
    await sb.run(["catalog", "add", "main", s.url]);
    expect((await sb.run(["catalog", "update"])).code).toBe(0);
    await s.close();
    const r = await sb.run(["search", "--json"], { PK3S_CATALOG_TTL: "0", PK3S_HTTP_RETRIES: "1" });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).results.map((x: { name: string }) => x.name)).toEqual(["cached"]);
    expect(r.stderr).toContain("using the cached index");
    s = await startServer(); // for afterEach
  });
});
