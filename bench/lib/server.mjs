// Static file server for the download benchmarks, run as its own process (the harness blocks in spawnSync
// while a case runs). Usage: node bench/lib/server.mjs <root>; prints the port on stdout, serves GET/HEAD
// on 127.0.0.1 with Content-Length and ETag, and exits on SIGTERM or when stdin closes.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { join, normalize, sep } from "node:path";

const root = process.argv[2];
if (!root) {
  process.stderr.write("usage: server.mjs <root>\n");
  process.exit(2);
}

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
  const file = join(root, path);
  if (!file.startsWith(root + sep) || (req.method !== "GET" && req.method !== "HEAD")) {
    res.writeHead(404).end();
    return;
  }
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, { ETag: etag }).end();
    return;
  }
  res.writeHead(200, { "Content-Length": st.size, "Content-Type": "application/octet-stream", ETag: etag });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(res);
});

process.stdout.on("error", () => process.exit(0)); // the harness went away before reading the port
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
const stop = () => server.close(() => process.exit(0)).closeAllConnections();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
