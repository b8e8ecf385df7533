/**
 * Servers that trickle bytes (issue 11, item 10): an idle timeout alone let
 * one byte every half second hold a download for hours. The overall deadline
 * (PK3S_HTTP_DEADLINE, scaled by the size at PK3S_HTTP_MIN_RATE) and the
 * minimum rate over a window (PK3S_HTTP_MIN_RATE / PK3S_HTTP_RATE_WINDOW)
 * end it with exit 1, a message naming the URL and the limit, and nothing
 * in the cache.
 */
import { existsSync, readdirSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { catalogYaml, fakeBytes, packagePath, pkg } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { serveBytes, startServer, type TestServer } from "./helpers/http-server.js";

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

function cachedPackages(): string[] {
  const dir = join(sb.env.PK3S_CACHE_DIR!, "packages");
  return ["sha256", "tmp"].flatMap((sub) => (existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)).map((f) => `${sub}/${f}`) : []));
}

/** One byte every 100 ms, at most `limit` bytes, stopped when the client goes away. */
function trickle(res: ServerResponse, body: Buffer, limit = 300): void {
  let sent = 0;
  const timer = setInterval(() => {
    if (sent >= Math.min(limit, body.length) || res.destroyed) {
      clearInterval(timer);
      return;
    }
    res.write(body.subarray(sent, sent + 1));
    sent++;
  }, 100);
  res.on("close", () => clearInterval(timer));
}

const noStack = (text: string): void => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe("trickling servers", () => {
  it("stops a package download at the size-scaled deadline", async () => {
    // Raw bytes of 4 KiB and a bit: the download never completes, so they need not be a package.
    const p = pkg("slowpoke", "1.0.0", { bytes: fakeBytes("slowpoke@1.0.0") });
    s.route("/index.yaml", serveBytes(catalogYaml([p])));
    s.route(packagePath(p), (_req, res) => {
      res.writeHead(200, { "content-length": p.bytes.length });
      trickle(res, p.bytes);
    });
    await sb.run(["catalog", "add", "main", s.url]);
    const started = Date.now();
    const r = await sb.run(["addon", "pull", "slowpoke", "--output", join(sb.root, "out")], { PK3S_HTTP_DEADLINE: "1" });
    const elapsed = Date.now() - started;
    expect(r.code).toBe(1);
    // 1 s + 4.0 KiB at the default 10 KiB/s.
    const allowed = (1000 + Math.ceil((p.bytes.length / 10240) * 1000)) / 1000;
    expect(r.stderr).toContain(`package slowpoke@1.0.0: not finished within its ${Number(allowed.toFixed(1))}s deadline`);
    expect(r.stderr).toContain("PK3S_HTTP_DEADLINE 1s + 4.0 KiB at PK3S_HTTP_MIN_RATE 10.0 KiB/s");
    expect(r.stderr).toContain(`${s.origin}${packagePath(p)}`);
    noStack(r.stderr);
    expect(elapsed).toBeLessThan(15_000);
    // Not retried: a trickle would only multiply the wait.
    expect(s.requests.filter((q) => q.url === packagePath(p))).toHaveLength(1);
    expect(cachedPackages()).toEqual([]);
    expect(existsSync(join(sb.root, "out", "slowpoke-1.0.0.tgz"))).toBe(false);
  });

  it("stops a body without Content-Length once it falls behind the deadline", async () => {
    const p = pkg("nolength", "1.0.0", { size: null });
    s.route("/index.yaml", serveBytes(catalogYaml([p])));
    s.route(packagePath(p), (_req, res) => {
      res.writeHead(200, { "transfer-encoding": "chunked" });
      trickle(res, p.bytes);
    });
    await sb.run(["catalog", "add", "main", s.url]);
    const r = await sb.run(["addon", "pull", "nolength", "--output", join(sb.root, "out")], { PK3S_HTTP_DEADLINE: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/package nolength@1\.0\.0: not finished within its 1s deadline \(PK3S_HTTP_DEADLINE 1s \+ \d+ B at/);
    expect(r.stderr).toContain(`${s.origin}${packagePath(p)}`);
    noStack(r.stderr);
    expect(cachedPackages()).toEqual([]);
  });

  it("stops a transfer slower than the minimum rate over the window", async () => {
    const p = pkg("crawl", "1.0.0");
    s.route("/index.yaml", serveBytes(catalogYaml([p])));
    s.route(packagePath(p), (_req, res) => {
      res.writeHead(200, { "content-length": p.bytes.length });
      trickle(res, p.bytes);
    });
    await sb.run(["catalog", "add", "main", s.url]);
    const r = await sb.run(["addon", "pull", "crawl", "--output", join(sb.root, "out")], {
      PK3S_HTTP_MIN_RATE: "100",
      PK3S_HTTP_RATE_WINDOW: "1",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/package crawl@1\.0\.0: transfer slower than 100 B\/s over 1s \(\d B in the last 1s\) from /);
    expect(r.stderr).toContain(`${s.origin}${packagePath(p)}`);
    expect(r.stderr).toContain("PK3S_HTTP_MIN_RATE");
    noStack(r.stderr);
    expect(cachedPackages()).toEqual([]);
  });

  it("applies to catalog indexes too, and an unreadable limit is a usage error", async () => {
    const body = Buffer.from(catalogYaml([pkg("a", "1.0.0")]));
    s.route("/index.yaml", (_req, res) => {
      res.writeHead(200, { "content-length": body.length });
      trickle(res, body);
    });
    await sb.run(["catalog", "add", "main", s.url, "--offline"]);
    const r = await sb.run(["catalog", "update"], { PK3S_HTTP_DEADLINE: "0.5", PK3S_HTTP_MIN_RATE: "0" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`catalog "main": not finished within its 0.5s deadline (PK3S_HTTP_DEADLINE 0.5s;`);
    expect(r.stderr).toContain(`${s.origin}/index.yaml`);
    const bad = await sb.run(["catalog", "update"], { PK3S_HTTP_MIN_RATE: "fast" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('PK3S_HTTP_MIN_RATE must be bytes per second (e.g. 10240, 10k or 1m; 0 turns it off), got "fast"');
  });
});
