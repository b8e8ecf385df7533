/** Loopback HTTP(S) servers for the transport tests: every request is recorded. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, count: number) => void;

export interface TestServer {
  url: string;
  origin: string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  readonly connections: number;
  /** Route by exact path; unknown paths are 404. */
  route(path: string, handler: Handler): void;
  close(): Promise<void>;
}

function wire(server: Server, scheme: "http" | "https"): Promise<TestServer> {
  const routes = new Map<string, Handler>();
  const counts = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import("node:net").Socket>();
  let connections = 0;
  server.on(scheme === "https" ? "secureConnection" : "connection", () => {
    connections++;
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers });
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const handler = routes.get(path);
    if (handler === undefined) {
      res.statusCode = 404;
      res.end("not found");
      return;
    }
    handler(req, res, n);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      const origin = `${scheme}://127.0.0.1:${port}`;
      resolve({
        url: `${origin}/`,
        origin,
        requests,
        get connections() {
          return connections;
        },
        route: (path, handler) => routes.set(path, handler),
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

export function startServer(): Promise<TestServer> {
  return wire(createServer(), "http");
}

export interface TlsMaterial {
  certFile: string;
  key: Buffer;
  cert: Buffer;
}

/** A throwaway self-signed certificate for 127.0.0.1 (child processes trust it through NODE_EXTRA_CA_CERTS). */
export function makeCertificate(dir: string): TlsMaterial {
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  return { certFile, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

export function startHttpsServer(tls: TlsMaterial): Promise<TestServer> {
  return wire(createHttpsServer({ key: tls.key, cert: tls.cert }), "https");
}

export function serveBytes(body: Buffer | string, contentType = "application/octet-stream"): Handler {
  return (_req, res) => {
    res.writeHead(200, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
}
