/**
 * Servers that end the body by closing the connection (HTTP/1.0, like
 * Python's http.server): undici 7.30.2 crashed intermittently on them with
 * `AssertionError … assert(!this.paused)` (nodejs/undici#5360) and a stack
 * trace. Pulls in a bounded loop, with and without Content-Length, must all
 * succeed with the exact bytes.
 */
import { readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { catalogYaml, type FakePackage, packageBytes, packagePath, pkg } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";

interface Http10Server {
  url: string;
  requests: number;
  close(): Promise<void>;
}

/** A raw HTTP/1.0 server: one request per connection, body written whole, then the connection is closed. */
function startHttp10Server(files: Map<string, Buffer>): Promise<Http10Server> {
  const sockets = new Set<Socket>();
  const state = { requests: 0 };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let head = "";
    socket.on("data", (data) => {
      head += data.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      state.requests++;
      const path = head.split(" ")[1] ?? "/";
      // `?nolength` variant: no Content-Length, the close alone ends the body.
      const body = files.get(path.replace(/[?&]nolength$/, ""));
      const withLength = !path.endsWith("nolength");
      if (body === undefined) {
        socket.end("HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnot found");
        return;
      }
      socket.write(
        `HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11\r\nContent-Type: application/octet-stream\r\n${withLength ? `Content-Length: ${body.length}\r\n` : ""}\r\n`,
      );
      socket.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        get requests() {
          return state.requests;
        },
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
let server: Http10Server | undefined;
beforeEach(() => {
  sb = sandbox();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  sb.cleanup();
});

const noStack = (text: string): void => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+|AssertionError/);

function big(name: string, bytes: number): FakePackage {
  return { ...pkg(name, "1.0.0"), bytes: packageBytes(name, "1.0.0", "addon", bytes) };
}

async function pullLoop(packages: FakePackage[], rounds: number): Promise<void> {
  // The `-nolength` twin of each package is served without Content-Length (its own package: pk3s binds bytes to names).
  const withoutLength = packages.map((p) => big(`${p.name}-nolength`, p.bytes.length));
  const files = new Map<string, Buffer>();
  for (const p of [...packages, ...withoutLength]) files.set(packagePath(p), p.bytes);
  for (const p of withoutLength) p.url = `${packagePath(p).slice(1)}?nolength`;
  files.set("/index.yaml", Buffer.from(catalogYaml([...packages, ...withoutLength])));
  server = await startHttp10Server(files);
  expect((await sb.run(["catalog", "add", "py", `${server.url}index.yaml`])).code).toBe(0);
  for (let i = 0; i < rounds; i++) {
    const p = [...packages, ...withoutLength][i % (packages.length * 2)]!;
    const out = join(sb.root, `out-${i}`);
    // A fresh cache every round: the index and the package both come over the connection-closing server.
    const r = await sb.run(["addon", "pull", p.name, "--output", out], { PK3S_CACHE_DIR: join(sb.root, `cache-${i}`) });
    noStack(r.stderr);
    expect({ round: i, name: p.name, code: r.code, stderr: r.stderr }).toEqual({ round: i, name: p.name, code: 0, stderr: "" });
    expect(readFileSync(join(out, `${p.name}-1.0.0.tgz`)).equals(p.bytes)).toBe(true);
    rmSync(out, { recursive: true, force: true });
    rmSync(join(sb.root, `cache-${i}`), { recursive: true, force: true });
  }
}

describe("servers that close the connection after the body", () => {
  it("pulls a 1 MiB package 30 times without a crash (with and without Content-Length)", { timeout: 180_000 }, async () => {
    await pullLoop([big("onemeg", 1024 * 1024)], 30);
  });

  it("pulls a 48 MiB package a few times without a crash", { timeout: 180_000 }, async () => {
    await pullLoop([big("large", 48 * 1024 * 1024)], 4);
  });
});
