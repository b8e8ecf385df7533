// Benchmark inputs, generated on demand under bench/out/ (gitignored) and reused across runs:
// a generation is skipped when its output (and a `.done` marker written last) already exists.
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createGzip } from "node:zlib";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Packages under bench/out/catalog/ are served over HTTP and listed in the generated catalogs. */
const DIGEST_ZERO = `sha256:${"0".repeat(64)}`;

async function writeChunks(file, chunks) {
  const out = createWriteStream(file);
  for (const chunk of chunks) {
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "close");
}

async function done(marker, value) {
  await writeFile(marker, JSON.stringify(value));
  return value;
}

function cached(marker) {
  return existsSync(marker) ? JSON.parse(readFileSync(marker, "utf8")) : undefined;
}

/** A deterministic pool of incompressible bytes: slices of it give every file distinct content. */
let pool;
function randomPool() {
  pool ??= randomBytes(64 * MiB);
  return pool;
}

function* poolSlices(seed, bytes) {
  const p = randomPool();
  let offset = (seed * 1_048_573) % p.length;
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, p.length - offset, 4 * MiB);
    yield p.subarray(offset, offset + n);
    left -= n;
    offset = (offset + n) % p.length;
  }
}

function addonYaml(name, dependencies = []) {
  const deps =
    dependencies.length === 0 ? "" : `  dependencies:\n${dependencies.map((d) => `    - name: ${d}\n      version: "^1.0.0"\n`).join("")}`;
  return `apiVersion: addons.productive-k3s.io/v1\nkind: Addon\nmetadata:\n  name: ${name}\n  version: 1.0.0\n  category: bench\n  description: benchmark add-on ${name}\nspec:\n  type: shell\n  install:\n    script: scripts/install.sh\n${deps}`;
}

const INSTALL_SH = "#!/usr/bin/env bash\necho installed\n";

async function addonSkeleton(root, name, dependencies) {
  await mkdir(join(root, "scripts"), { recursive: true });
  await writeFile(join(root, "addon.yaml"), addonYaml(name, dependencies));
  await writeFile(join(root, "scripts", "install.sh"), INSTALL_SH, { mode: 0o755 });
}

/** `graph-root` → graph-dep-00 … graph-dep-49 (each depends on the next two): 51 real packages packed by pkg-format. */
export const GRAPH_SIZE = 50;
export function graphDeps(i) {
  return [i + 1, i + 2].filter((d) => d < GRAPH_SIZE).map((d) => `graph-dep-${String(d).padStart(2, "0")}`);
}

export async function graphPackages(outDir, repoDir) {
  const dir = join(outDir, "catalog", "graph");
  const marker = join(dir, ".done");
  const hit = cached(marker);
  if (hit) return hit;
  const { packPackage } = await import(join(repoDir, "packages/pkg-format/dist/index.js"));
  const src = join(outDir, "src-graph");
  await rm(src, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const specs = [{ name: "graph-root", deps: ["graph-dep-00", "graph-dep-01"] }];
  for (let i = 0; i < GRAPH_SIZE; i++) specs.push({ name: `graph-dep-${String(i).padStart(2, "0")}`, deps: graphDeps(i) });
  const entries = [];
  for (const s of specs) {
    const root = join(src, s.name);
    await addonSkeleton(root, s.name, s.deps);
    const packed = await packPackage(root, dir, { sourceDateEpoch: 0 });
    entries.push({ name: s.name, deps: s.deps, url: `graph/${s.name}-1.0.0.tgz`, digest: packed.digest, size: packed.size });
  }
  await rm(src, { recursive: true, force: true });
  return done(marker, entries);
}

/** A digest-shaped value that differs per entry (the catalogs' filler entries point at no real file). */
const fillerDigest = (i) => createHash("sha256").update(`filler-${i}`).digest("hex");

/** The filler entries of the generated catalogs: one package per name, a third of them profiles. */
function* fillerEntries(count) {
  for (let i = 0; i < count; i++) {
    yield {
      name: `pkg-${i}`,
      version: `${i % 7}.${i % 13}.${i % 5}`,
      type: i % 3 === 0 ? "profile" : "addon",
      digest: fillerDigest(i),
      size: 1000 + i,
      description: `generated package number ${i} for the large-catalog benchmark`,
    };
  }
}

/**
 * A v1 catalog with `count` entries: `longhorn`, the 51 graph packages (real digests, served from the same
 * folder) and generated filler entries.
 */
export async function bigCatalog(outDir, graph, count = 100_000) {
  const dir = join(outDir, "catalog");
  const file = join(dir, `catalog-${count}.yaml`);
  const marker = `${file}.done`;
  const key = createHash("sha256").update(JSON.stringify(graph)).digest("hex");
  if (cached(marker)?.key === key) return file;
  await mkdir(dir, { recursive: true });
  function* lines() {
    yield "apiVersion: catalog.productive-k3s.io/v1\nkind: Catalog\ngenerated: 2026-11-21T00:00:00Z\nentries:\n";
    yield `  - name: longhorn\n    version: 1.0.0\n    type: addon\n    url: packages/longhorn-1.0.0.tgz\n    digest: ${DIGEST_ZERO}\n    size: 1000\n    description: Distributed block storage\n    category: storage\n`;
    for (const g of graph) {
      const deps = g.deps.length ? `    dependencies: [${g.deps.map((d) => `{name: ${d}, version: "^1.0.0"}`).join(", ")}]\n` : "";
      yield `  - name: ${g.name}\n    version: 1.0.0\n    type: addon\n    url: ${g.url}\n    digest: ${g.digest}\n    size: ${g.size}\n    category: bench\n${deps}`;
    }
    for (let i = 0; i < count - 1 - graph.length; i++) {
      yield `  - name: pkg-${i}\n    version: ${i % 7}.${i % 13}.${i % 5}\n    type: ${i % 3 === 0 ? "profile" : "addon"}\n    url: packages/pkg-${i}.tgz\n    digest: ${DIGEST_ZERO}\n    size: ${1000 + i}\n    description: generated package number ${i} for the large-catalog benchmark\n    category: bench\n`;
    }
  }
  await writeChunks(file, lines());
  await done(marker, { key });
  return file;
}

/**
 * The same `count` entries twice, in `catalog/pk3s-<count>/index.yaml` (a v1 catalog: `longhorn`, the 51 graph
 * packages with their real digests, filler entries) and `catalog/helm-<count>/index.yaml` (a Helm repository
 * index holding the same names, versions, digests and descriptions), so pk3s and helm read the same content.
 */
export async function catalogPair(outDir, graph, count) {
  const pk3sDir = join(outDir, "catalog", `pk3s-${count}`);
  const helmDir = join(outDir, "catalog", `helm-${count}`);
  const marker = join(outDir, "catalog", `pair-${count}.done`);
  const key = createHash("sha256").update(JSON.stringify(graph)).update("v2").digest("hex");
  const result = { count, pk3sIndex: join(pk3sDir, "index.yaml"), helmIndex: join(helmDir, "index.yaml"), pk3sDir, helmDir };
  if (cached(marker)?.key === key) return result;
  await mkdir(pk3sDir, { recursive: true });
  await mkdir(helmDir, { recursive: true });
  const fillers = count - 1 - graph.length;
  function* v1() {
    yield "apiVersion: catalog.productive-k3s.io/v1\nkind: Catalog\ngenerated: 2026-11-21T00:00:00Z\nentries:\n";
    yield `  - name: longhorn\n    version: 1.0.0\n    type: addon\n    url: packages/longhorn-1.0.0.tgz\n    digest: ${DIGEST_ZERO}\n    size: 1000\n    description: Distributed block storage\n    category: storage\n`;
    for (const g of graph) {
      const deps = g.deps.length
        ? `    dependencies:\n${g.deps.map((d) => `      - name: ${d}\n        version: "^1.0.0"\n`).join("")}`
        : "";
      yield `  - name: ${g.name}\n    version: 1.0.0\n    type: addon\n    url: ../${g.url}\n    digest: ${g.digest}\n    size: ${g.size}\n    category: bench\n${deps}`;
    }
    for (const e of fillerEntries(fillers)) {
      yield `  - name: ${e.name}\n    version: ${e.version}\n    type: ${e.type}\n    url: packages/${e.name}-${e.version}.tgz\n    digest: sha256:${e.digest}\n    size: ${e.size}\n    description: ${e.description}\n    category: bench\n`;
    }
  }
  function* helm() {
    const chart = (name, version, description, digest) =>
      `  ${name}:\n  - apiVersion: v2\n    created: "2026-11-21T00:00:00Z"\n    description: ${description}\n    digest: ${digest}\n    name: ${name}\n    type: application\n    urls:\n    - charts/${name}-${version}.tgz\n    version: ${version}\n`;
    yield "apiVersion: v1\nentries:\n";
    yield chart("longhorn", "1.0.0", "Distributed block storage", "0".repeat(64));
    for (const g of graph) yield chart(g.name, "1.0.0", `benchmark add-on ${g.name}`, g.digest.slice("sha256:".length));
    for (const e of fillerEntries(fillers)) yield chart(e.name, e.version, e.description, e.digest);
    yield 'generated: "2026-11-21T00:00:00Z"\n';
  }
  await writeChunks(result.pk3sIndex, v1());
  await writeChunks(result.helmIndex, helm());
  await done(marker, { key });
  return result;
}

/**
 * The pk3s side of `pair` as `pk3s catalog index` publishes it: the same entries in an index.yaml that lists
 * its companions (NDJSON and shards, written by pk3s's own publisher), in `catalog/pk3s-companions-<count>/`
 * beside the YAML-only one (relative entry URLs stay valid). Needs the built pkg-format and pk3s.
 */
export async function companionCatalog(outDir, repoDir, pair) {
  const dir = join(outDir, "catalog", `pk3s-companions-${pair.count}`);
  const marker = join(outDir, "catalog", `companions-${pair.count}.done`);
  const source = readFileSync(pair.pk3sIndex);
  const key = createHash("sha256").update(source).update("companions-v1").digest("hex");
  const result = { count: pair.count, dir, index: join(dir, "index.yaml") };
  if (cached(marker)?.key === key) return result;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const { parseCatalog } = await import(join(repoDir, "packages/pkg-format/dist/format/catalog-parse.js"));
  const { publishIndex } = await import(join(repoDir, "packages/pk3s/dist/catalog/catalog-companions.js"));
  const parsed = parseCatalog(source.toString("utf8"), pair.pk3sIndex);
  const envelope = { apiVersion: "catalog.productive-k3s.io/v1", kind: "Catalog", generated: parsed.generated };
  await publishIndex(result.index, envelope, parsed.entries, undefined);
  await done(marker, { key });
  return result;
}

/** An add-on source tree of `files` files totalling `bytes` of incompressible data (each file distinct). */
export async function addonSource(outDir, { files, bytes, name = "bench-addon" }) {
  const root = join(outDir, `src-${name}-${files}-${bytes}`);
  const marker = join(outDir, `src-${name}-${files}-${bytes}.done`);
  if (cached(marker)) return root;
  await rm(root, { recursive: true, force: true });
  await addonSkeleton(root, name, []);
  const per = Math.max(1, Math.floor(bytes / files));
  for (let i = 0; i < files; i++) {
    const sub = join(root, "data", String(i % 100).padStart(2, "0"));
    if (i < 100) await mkdir(sub, { recursive: true });
    await writeChunks(join(sub, `f${i}.bin`), poolSlices(i, per));
  }
  await done(marker, { files, bytes });
  return root;
}

/** A package with `files` small text files (about `perFile` bytes each), packed by pkg-format (same gzip level as `dev addon package`). */
export async function manyFilesPackage(outDir, repoDir, { files, perFile = 600, name = "bench-many" }) {
  const dir = join(outDir, "many");
  const marker = join(dir, `${name}-${files}.done`);
  const hit = cached(marker);
  if (hit) return hit.file;
  const { packPackage } = await import(join(repoDir, "packages/pkg-format/dist/index.js"));
  const root = join(outDir, `src-${name}-${files}`);
  await rm(root, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  await addonSkeleton(root, name, []);
  const text = randomPool().toString("base64");
  for (let i = 0; i < files; i++) {
    const sub = join(root, "manifests", String(i % 200).padStart(3, "0"));
    if (i < 200) await mkdir(sub, { recursive: true });
    const at = (i * 7919) % (text.length - perFile);
    await writeFile(join(sub, `m${i}.yaml`), `# manifest ${i}\ndata: ${text.slice(at, at + perFile)}\n`);
  }
  await mkdir(dir, { recursive: true });
  const packed = await packPackage(root, dir, { sourceDateEpoch: 0 });
  await rm(root, { recursive: true, force: true });
  await done(marker, { file: packed.file });
  return packed.file;
}

/**
 * A `bytes`-sized add-on package of incompressible data, written directly (tar + gzip) without a source
 * tree: files of 8 MiB under data/, checksums.sha256, entries in the packer's sorted order. Deflate at
 * level 0 stores the data, which is what gzip -9 produces for incompressible data too, so extraction
 * does the same work as for a packer-made package while generation stays fast.
 */
export async function bigPackage(outDir, repoDir, bytes) {
  const tarWrite = await import(join(repoDir, "packages/pkg-format/dist/archive/tar-write.js"));
  const name = `bench-big-${Math.round(bytes / MiB)}m`;
  const dir = join(outDir, "catalog", "big");
  const file = join(dir, `${name}-1.0.0.tgz`);
  const marker = `${file}.done`;
  const hit = cached(marker);
  if (hit) return hit;
  await mkdir(dir, { recursive: true });
  const part = 8 * MiB;
  const parts = Math.ceil(bytes / part);
  const files = [];
  files.push({ path: "addon.yaml", data: [Buffer.from(addonYaml(name))], mode: 0o644 });
  for (let i = 0; i < parts; i++) {
    const size = Math.min(part, bytes - i * part);
    files.push({ path: `data/part-${String(i).padStart(4, "0")}.bin`, seed: i + 17, size, mode: 0o644 });
  }
  files.push({ path: "scripts/install.sh", data: [Buffer.from(INSTALL_SH)], mode: 0o755 });
  const sums = new Map();
  for (const f of files) {
    const h = createHash("sha256");
    for (const c of f.data ?? poolSlices(f.seed, f.size)) h.update(c);
    sums.set(f.path, h.digest("hex"));
  }
  const checksums = [...sums.keys()]
    .sort()
    .map((p) => `${sums.get(p)}  ${p}\n`)
    .join("");
  files.push({ path: "checksums.sha256", data: [Buffer.from(checksums)], mode: 0o644 });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  function* tar() {
    const dirsDone = new Set();
    for (const f of files) {
      const parent = f.path.includes("/") ? f.path.slice(0, f.path.lastIndexOf("/")) : "";
      if (parent !== "" && !dirsDone.has(parent)) {
        dirsDone.add(parent);
        yield tarWrite.encodeHeader({ path: parent, type: "directory", size: 0, mode: 0o755, mtime: 0 });
      }
      const size = f.size ?? f.data.reduce((n, b) => n + b.length, 0);
      yield tarWrite.encodeHeader({ path: f.path, type: "file", size, mode: f.mode, mtime: 0 });
      yield* f.data ?? poolSlices(f.seed, f.size);
      yield tarWrite.padding(size);
    }
    yield tarWrite.END_OF_ARCHIVE;
  }

  const temp = `${file}.tmp`;
  const gzip = createGzip({ level: 0, chunkSize: 1 * MiB });
  const out = createWriteStream(temp);
  const hash = createHash("sha256");
  let size = 0;
  gzip.on("data", (c) => {
    hash.update(c);
    size += c.length;
    if (!out.write(c)) {
      gzip.pause();
      out.once("drain", () => gzip.resume());
    }
  });
  const ended = once(gzip, "end");
  for (const chunk of tar()) {
    if (!gzip.write(chunk)) await once(gzip, "drain");
  }
  gzip.end();
  await ended;
  out.end();
  await once(out, "close");
  const { rename } = await import("node:fs/promises");
  await rename(temp, file);
  return done(marker, { name, file, url: `big/${name}-1.0.0.tgz`, digest: `sha256:${hash.digest("hex")}`, size, bytes });
}

/** A small v1 catalog listing the big packages (served over HTTP next to them). */
export async function downloadCatalog(outDir, packages, fileName = "download.yaml") {
  const file = join(outDir, "catalog", fileName);
  const body = packages
    .map(
      (p) =>
        `  - name: ${p.name}\n    version: 1.0.0\n    type: addon\n    url: ${p.url}\n    digest: ${p.digest}\n    size: ${p.size}\n    category: bench\n`,
    )
    .join("");
  await writeFile(file, `apiVersion: catalog.productive-k3s.io/v1\nkind: Catalog\nentries:\n${body}`);
  return file;
}

/** Text of `bytes` bytes for a source file (base64 of the pool: compressible about as well as real manifests). */
function sourceText(seed, bytes) {
  const text = randomPool().toString("base64", 0, 4 * MiB);
  const at = (seed * 7919) % (text.length - bytes);
  return `# file ${seed}\ndata: ${text.slice(at, at + bytes)}\n`;
}

/**
 * Issue 19 item 5: the same small source twice, `files` files of about `perFile` bytes each: an add-on source
 * (addon.yaml, scripts/install.sh, manifests/) for `pk3s pack` and a Helm chart (Chart.yaml, files/) for
 * `helm package`.
 */
export async function smallSources(outDir, { files = 100, perFile = 2048 } = {}) {
  const addon = join(outDir, `small-src-addon-${files}`);
  const chart = join(outDir, `small-src-chart-${files}`);
  const marker = join(outDir, `small-src-${files}-${perFile}.done`);
  const result = { addon, chart, files };
  if (cached(marker)) return result;
  await rm(addon, { recursive: true, force: true });
  await rm(chart, { recursive: true, force: true });
  await addonSkeleton(addon, "bench-small", []);
  await mkdir(join(addon, "manifests"), { recursive: true });
  for (let i = 0; i < files - 2; i++)
    await writeFile(join(addon, "manifests", `m${String(i).padStart(3, "0")}.yaml`), sourceText(i, perFile));
  await mkdir(join(chart, "files"), { recursive: true });
  await writeFile(join(chart, "Chart.yaml"), "apiVersion: v2\nname: bench-small\nversion: 1.0.0\ndescription: benchmark chart\n");
  for (let i = 0; i < files - 1; i++) await writeFile(join(chart, "files", `m${String(i).padStart(3, "0")}.yaml`), sourceText(i, perFile));
  return done(marker, result);
}

/**
 * `source` as a Helm chart for `helm package`: the same files, hard-linked (no copy of the bytes), plus a
 * Chart.yaml. For the large pack row's helm column.
 */
export async function chartOf(outDir, source, name) {
  const chart = join(outDir, `chart-of-${name}`);
  const marker = `${chart}.done`;
  if (cached(marker)) return chart;
  const { cp, link, readdir } = await import("node:fs/promises");
  await rm(chart, { recursive: true, force: true });
  const walk = async (from, to) => {
    await mkdir(to, { recursive: true });
    for (const e of await readdir(from, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(from, e.name), join(to, e.name));
      else await link(join(from, e.name), join(to, e.name)).catch(() => cp(join(from, e.name), join(to, e.name)));
    }
  };
  await walk(source, chart);
  await writeFile(join(chart, "Chart.yaml"), `apiVersion: v2\nname: ${name}\nversion: 1.0.0\ndescription: benchmark chart\n`);
  await done(marker, { chart });
  return chart;
}

/**
 * A Helm repository (`catalog/<dir>/index.yaml`) serving `charts`: [{ name, file }] under `charts/`, with the
 * digests helm repo index computes. `helm pull` downloads without opening the archive, so a chart here can
 * be any .tgz (the large pull row serves its 512 MiB add-on package as a chart of that name).
 */
export async function helmRepo(outDir, dir, charts) {
  const root = join(outDir, "catalog", dir);
  await mkdir(join(root, "charts"), { recursive: true });
  const entries = [];
  for (const c of charts) {
    const target = join(root, "charts", `${c.name}-1.0.0.tgz`);
    const { link } = await import("node:fs/promises");
    await rm(target, { force: true });
    await link(c.file, target);
    const digest = c.digest?.replace(/^sha256:/, "") ?? (await sha256File(c.file));
    entries.push(
      `  ${c.name}:\n  - apiVersion: v2\n    created: "2026-11-21T00:00:00Z"\n    digest: ${digest}\n    name: ${c.name}\n    type: application\n    urls:\n    - charts/${c.name}-1.0.0.tgz\n    version: 1.0.0\n`,
    );
  }
  await writeFile(join(root, "index.yaml"), `apiVersion: v1\nentries:\n${entries.join("")}generated: "2026-11-21T00:00:00Z"\n`);
  return root;
}

async function sha256File(file) {
  const { createReadStream } = await import("node:fs");
  const h = createHash("sha256");
  for await (const c of createReadStream(file)) h.update(c);
  return h.digest("hex");
}

/** A real Helm chart of about `bytes` (Chart.yaml and one file of incompressible data), packed by `helm package`. */
export async function helmChartPackage(outDir, helm, { name, bytes }) {
  const src = join(outDir, `chart-src-${name}`);
  const dest = join(outDir, "helm-packed");
  const file = join(dest, `${name}-1.0.0.tgz`);
  const marker = `${file}.done`;
  if (cached(marker)) return file;
  await rm(src, { recursive: true, force: true });
  await mkdir(join(src, "files"), { recursive: true });
  await writeFile(join(src, "Chart.yaml"), `apiVersion: v2\nname: ${name}\nversion: 1.0.0\ndescription: benchmark chart\n`);
  await writeChunks(join(src, "files", "data.bin"), poolSlices(3, bytes));
  await mkdir(dest, { recursive: true });
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync(helm, ["package", src, "-d", dest], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`helm package ${src} failed: ${r.stderr}`);
  await done(marker, { file });
  return file;
}

/** The add-on manifest of a publish-case package: a helm add-on with its chart inside the package. */
function publishAddonYaml(name, version, i) {
  const deps = i > 0 && i % 4 === 0 ? `  dependencies:\n    - name: pub-${String(i - 1).padStart(4, "0")}\n      version: "^1.0.0"\n` : "";
  return (
    `apiVersion: addons.productive-k3s.io/v1\nkind: Addon\nmetadata:\n  name: ${name}\n  version: ${version}\n  category: bench\n` +
    `  description: benchmark add-on ${name}, a helm chart with its scripts\nspec:\n  type: helm\n  chart:\n    path: charts/${name}\n` +
    `    namespace: ${name}\n    values:\n      - values.yaml\n  impact:\n    cluster: true\n    host: false\n` +
    `    summary: Installs the ${name} chart into ${name}.\n  install:\n    script: scripts/install.sh\n` +
    `  validate:\n    script: scripts/validate.sh\n${deps}`
  );
}

/** The files of a chart made by `helm create` (read once from `dir`), as [relative path, text]. */
async function readChartTemplate(dir) {
  const { readdir, readFile } = await import("node:fs/promises");
  const out = [];
  const walk = async (rel) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else out.push([p, await readFile(join(dir, p), "utf8")]);
    }
  };
  await walk("");
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** The template chart's files for chart `name` at `version` (Chart.yaml's name and version rewritten). */
function chartFiles(template, name, version) {
  return template.map(([p, text]) =>
    p === "Chart.yaml" ? [p, text.replace(/^name: .*$/m, `name: ${name}`).replace(/^version: .*$/m, `version: ${version}`)] : [p, text],
  );
}

/** A helm chart archive (`<name>/…` inside, gzip at helm's default level), as `helm package` lays it out. */
async function writeChartArchive(tarWrite, file, name, files) {
  const { gzipSync } = await import("node:zlib");
  const parts = [];
  for (const [p, text] of files) {
    const data = Buffer.from(text);
    parts.push(tarWrite.encodeHeader({ path: `${name}/${p}`, type: "file", size: data.length, mode: 0o644, mtime: 1_764_000_000 }));
    parts.push(data, tarWrite.padding(data.length));
  }
  parts.push(tarWrite.END_OF_ARCHIVE);
  await writeFile(file, gzipSync(Buffer.concat(parts)));
}

/**
 * The publish case's inputs: `count` small add-on packages packed by pkg-format (a helm add-on: manifest,
 * values, two scripts, a README and the chart `helm create` makes, ~6 KB packed) in `publish/pk3s-<count>/`,
 * and the same charts as helm chart archives (~5 KB, what `helm package` makes of them) in
 * `publish/helm-<count>/`. The packages are made once into `publish/pool-*` (count up to `max`, plus one extra
 * package for the re-index row) and hard-linked into each folder. `helm` is the real helm binary (`helm create`
 * writes the template chart).
 */
export async function publishSet(outDir, repoDir, helm, count, max = 2000) {
  const root = join(outDir, "publish");
  const poolPk3s = join(root, "pool-pk3s");
  const poolHelm = join(root, "pool-helm");
  const marker = join(root, `pool-${max}.done`);
  const names = (n) => Array.from({ length: n }, (_, i) => `pub-${String(i).padStart(4, "0")}`);
  const version = (i) => `1.${i % 10}.${i % 3}`;
  const fileOf = (name, i) => `${name}-${version(i)}.tgz`;
  if (cached(marker) === undefined) {
    const { spawnSync } = await import("node:child_process");
    const { packPackage } = await import(join(repoDir, "packages/pkg-format/dist/index.js"));
    const tarWrite = await import(join(repoDir, "packages/pkg-format/dist/archive/tar-write.js"));
    await rm(root, { recursive: true, force: true });
    await mkdir(poolPk3s, { recursive: true });
    await mkdir(poolHelm, { recursive: true });
    const made = spawnSync(helm, ["create", join(root, "template")], { encoding: "utf8" });
    if (made.status !== 0) throw new Error(`helm create failed: ${made.stderr}`);
    const template = await readChartTemplate(join(root, "template"));
    const src = join(root, "src");
    for (const [i, name] of [...names(max), "pub-extra"].entries()) {
      const files = chartFiles(template, name, version(i));
      const dir = join(src, name);
      for (const [p, text] of files) {
        const at = join(dir, "charts", name, p);
        await mkdir(join(at, ".."), { recursive: true });
        await writeFile(at, text);
      }
      await mkdir(join(dir, "scripts"), { recursive: true });
      await writeFile(join(dir, "addon.yaml"), publishAddonYaml(name, version(i), i));
      await writeFile(join(dir, "values.yaml"), `replicaCount: 1\nimage:\n  tag: "${version(i)}"\n`);
      await writeFile(join(dir, "README.md"), `# ${name}\n\nA benchmark add-on: the chart \`helm create\` makes, installed with helm.\n`);
      await writeFile(join(dir, "scripts", "install.sh"), INSTALL_SH, { mode: 0o755 });
      await writeFile(join(dir, "scripts", "validate.sh"), '#!/usr/bin/env bash\nkubectl get ns "$1"\n', { mode: 0o755 });
      await packPackage(dir, poolPk3s, { sourceDateEpoch: 0 });
      await writeChartArchive(tarWrite, join(poolHelm, fileOf(name, i)), name, files);
      await rm(dir, { recursive: true, force: true });
    }
    await rm(src, { recursive: true, force: true });
    await done(marker, { max });
  }
  const { link, readdir } = await import("node:fs/promises");
  const fill = async (pool, dir, files) => {
    const have = existsSync(dir) ? await readdir(dir) : [];
    if (have.filter((f) => f.endsWith(".tgz")).length === files.length) return dir;
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const f of files) await link(join(pool, f), join(dir, f));
    return dir;
  };
  const files = names(count).map(fileOf);
  const extra = fileOf("pub-extra", max);
  return {
    count,
    pk3sDir: await fill(poolPk3s, join(root, `pk3s-${count}`), files),
    helmDir: await fill(poolHelm, join(root, `helm-${count}`), files),
    /** The folder plus one package (the re-index row), and that package's file name. */
    pk3sPlusOne: await fill(poolPk3s, join(root, `pk3s-${count}-plus-one`), [...files, extra]),
    helmPlusOne: await fill(poolHelm, join(root, `helm-${count}-plus-one`), [...files, extra]),
    extra,
  };
}
