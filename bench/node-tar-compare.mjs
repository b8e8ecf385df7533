#!/usr/bin/env node
// node-tar (the `tar` package, a devDependency of pkg-format) against our own tar writer and reader, on the
// bench's inputs (run `node bench/run.mjs --only pack,validate` once first so bench/out/ has them; build first).
// Record of the measurement behind docs/design-notes.md "Archive library: node-tar"; not part of `pnpm bench`.
//   node bench/node-tar-compare.mjs [--runs N]
// pack:  ours = packPackage (validate, hash, sorted tar, gzip level GZIP_LEVEL, fsync) of the 512 MiB / 10,000-file
//        source; node-tar = Pack({portable, mtime}) of the same sorted paths | gzip at the same level
//        (no validation, no hashing: the least node-tar would have to do).
// parse: ours = inspectPackage (gunzip, strict tar read, every path rule, sha256 of every file, checksums)
//        of the 20,000-file package; node-tar = gunzip | Parser({strict}) + the same path rules and sha256.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createGunzip, createGzip } from "node:zlib";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(REPO, "packages/pkg-format/dist");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
const src = join(REPO, "bench/out/src-bench-addon-10000-536870912");
const many = join(REPO, "bench/out/many/bench-many-1.0.0.tgz");

// tar is resolved from pkg-format (its only user); its CommonJS build, so the API sits on `default`.
const tarModule = await import(pathToFileURL(createRequire(join(REPO, "packages/pkg-format/package.json")).resolve("tar")).href);
const tar = tarModule.Pack === undefined ? tarModule.default : tarModule;
const { packPackage, GZIP_LEVEL } = await import(join(DIST, "archive/pack.js"));
const { inspectPackage } = await import(join(DIST, "archive/inspect.js"));
const { checkEntryPath, PathRegistry } = await import(join(DIST, "archive/entry-path.js"));

function sortedPaths(root) {
  const out = [];
  const walk = (rel) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      out.push(path);
      if (statSync(join(root, path)).isDirectory()) walk(path);
    }
  };
  walk("");
  return out;
}

async function nodeTarPack(out) {
  const pack = new tar.Pack({ cwd: src, portable: true, mtime: new Date(0), noDirRecurse: true });
  const paths = sortedPaths(src);
  const done = pipeline(pack, createGzip({ level: GZIP_LEVEL }), createWriteStream(join(out, "node-tar.tgz")));
  for (const p of paths) pack.add(p);
  pack.end();
  await done;
}

async function nodeTarParse() {
  const registry = new PathRegistry();
  const parser = new tar.Parser({ strict: true });
  const ended = new Promise((resolve, reject) => {
    parser.on("error", reject);
    parser.on("end", resolve);
  });
  parser.on("entry", (e) => {
    const checked = checkEntryPath(e.path, e.type === "Directory");
    if ("why" in checked || registry.add(checked.path, e.type === "Directory" ? "dir" : "file") !== undefined) throw new Error(e.path);
    const hash = createHash("sha256");
    e.on("data", (c) => hash.update(c));
    e.on("end", () => hash.digest("hex"));
  });
  await pipeline(createReadStream(many), createGunzip(), parser);
  await ended;
}

async function time(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { pack: { ours: [], nodeTar: [] }, parse: { ours: [], nodeTar: [] } };
for (let i = 0; i < RUNS; i++) {
  const out = mkdtempSync(join(tmpdir(), "node-tar-compare-"));
  try {
    results.pack.ours.push(await time(() => packPackage(src, join(out, "ours"))));
    results.pack.nodeTar.push(await time(() => nodeTarPack(out)));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  results.parse.ours.push(await time(() => inspectPackage(many)));
  results.parse.nodeTar.push(await time(() => nodeTarParse()));
}
for (const [name, r] of Object.entries(results)) {
  const ours = median(r.ours);
  const theirs = median(r.nodeTar);
  process.stdout.write(
    `${name.padEnd(6)} ours ${(ours / 1000).toFixed(2)} s   node-tar ${(theirs / 1000).toFixed(2)} s   node-tar/ours ${(theirs / ours).toFixed(2)}×   (median of ${RUNS})\n`,
  );
}
