#!/usr/bin/env node
// Bundle a CLI package's binary into dist/cli/ (run from the package directory after tsc):
//   node ../../scripts/bundle-cli.mjs <bin-name> [--ops-max-kib <n>]
//
// Why: start-up is what users feel on every command (issue 19: ≤ 1.2× `node -e 0`). Measured on this machine
// (CPU time; `node -e 0` 64-67 ms): `pk3s --help` as one ESM bundle importing 4 shared chunks 84 ms, as one
// CommonJS file 75 ms; a warm `pk3s search` loading 14 ESM chunks 112 ms, the same code in CommonJS 94 ms. Node's
// ESM loader costs ~4 ms more than CommonJS for the first module and ~1.5 ms per module after it.
//
// So the binary is three kinds of file, all built from the same sources:
// - `<bin>.main.cjs`: commander, the command tree, the CLI kit, and the lazily imported modules too small to be
//   worth a file of their own (≤ 32 KB with what they import, e.g. `--version`'s): what every start loads.
// - `<bin>.ops.cjs`: every other module a command loads with `await import(...)` (the operations, ≤ 320 KB each
//   with what they import, or --ops-max-kib), loaded with the first one a command asks for. pk3s keeps zod and
//   yaml out (a warm search needs neither); Core and Infra validate a package in nearly every command and take them
//   in (--ops-max-kib 4096 in their build scripts: `core addon validate` of a small package 183 -> 155 ms). esbuild keeps each module's code in a
//   function run on its first import, so loading the file runs none of them.
// - `chunks/*.mjs`: an ESM build with code splitting, for what is larger still (zod and yaml, ~1 MB, loaded only
//   to word the problems of an invalid catalog or to validate a package; cli-progress), each loaded on demand.
// `<bin>.js` is a small loader that compiles the two CommonJS files with V8 code caches made here (Node 20 has no
// compile-cache API; vm.Script's cachedData works on every version, and V8 rejects a cache from another V8): the
// main file's from a `--version` and a `--help` run, the operations' from its compilation. Code that comes from a
// code cache cannot use `import()` itself, so every `import()` in the two files calls the loader's (`__pk3sImport`).
//
// The small modules several files use (errors, the CLI kit) exist once per file: errors are recognised by their
// brand, not by class identity (pkg-format/errors.ts `isPk3sError`), and none of those modules holds state.
// dist/cli/ sits at the same depth as tsc's dist/<dir>/ modules, so `import.meta.url`-relative paths (package.json
// lookups, the repository's local catalog) resolve the same from every file.
import { spawnSync } from "node:child_process";
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { build } from "esbuild";

const [bin, ...flags] = process.argv.slice(2);
const opsMaxIndex = flags.indexOf("--ops-max-kib");
const opsMaxKib = opsMaxIndex === -1 ? 320 : Number(flags[opsMaxIndex + 1]);
if (bin === undefined || bin.startsWith("-") || !(opsMaxKib > 0)) {
  process.stderr.write("usage: node scripts/bundle-cli.mjs <bin-name> [--ops-max-kib <n>] (run in the package directory)\n");
  process.exit(2);
}
const pkgDir = process.cwd();
const entry = join(pkgDir, "dist", "bin", `${bin}.js`);
const outdir = join(pkgDir, "dist", "cli");
const common = { bundle: true, platform: "node", target: "node20", legalComments: "none", logLevel: "warning" };
const MAIN_MAX_BYTES = 32 * 1024;
/** What an operation's own lazy import may add to the operations file (e.g. the 10 KB local state backend). */
const NESTED_MAX_BYTES = 16 * 1024;
const OPS_MAX_BYTES = opsMaxKib * 1024;
await rm(outdir, { recursive: true, force: true });

// 1. ESM with code splitting: the chunks, and the map of what each lazily imported module costs.
const esm = await build({
  ...common,
  entryPoints: { [`${bin}.esm`]: entry },
  outdir,
  splitting: true,
  format: "esm",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  // commander is CommonJS and requires Node built-ins: the banner gives the ESM chunks a real `require`.
  banner: { js: 'import { createRequire as __pk3sRequire } from "node:module";\nconst require = __pk3sRequire(import.meta.url);' },
  metafile: true,
  write: true,
});
const outputInfo = (file) => esm.metafile.outputs[relative(process.cwd(), file)];
/** Source module (absolute) → its chunk, for every module build 1 split out (the targets of `import(...)`). */
const chunkOf = new Map();
for (const [out, info] of Object.entries(esm.metafile.outputs)) {
  if (info.entryPoint !== undefined && out.includes("/chunks/")) chunkOf.set(resolve(info.entryPoint), resolve(out));
}
/** A chunk and every chunk it imports statically: what loading it loads. */
const closureOf = (chunk) => {
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const i of outputInfo(file)?.imports ?? []) if (!i.external && i.kind === "import-statement") walk(resolve(i.path));
  };
  walk(chunk);
  return seen;
};
const bytesOf = (files) => [...files].reduce((n, f) => n + (outputInfo(f)?.bytes ?? 0), 0);
const closureBytes = (chunk) => bytesOf(closureOf(chunk));

/** Where a lazily imported module goes: "main", "ops" or its ESM chunk. */
const placements = new Map();
function placementOf(module) {
  let placement = placements.get(module);
  if (placement === undefined) {
    const chunk = chunkOf.get(module);
    if (chunk === undefined) throw new Error(`${module}: no chunk for this dynamic import in the ESM build`);
    const bytes = closureBytes(chunk);
    placement = bytes <= MAIN_MAX_BYTES ? "main" : bytes <= OPS_MAX_BYTES ? "ops" : chunk;
    placements.set(module, placement);
  }
  return placement;
}
/** What the operations file holds (filled in as the main file sends operations there). */
const opsCode = new Set();
function nestedPlacementOf(module) {
  const chunk = chunkOf.get(module);
  if (chunk === undefined) throw new Error(`${module}: no chunk for this dynamic import in the ESM build`);
  const closure = [...closureOf(chunk)];
  const extra = bytesOf(closure.filter((f) => !opsCode.has(f)));
  const shared = bytesOf(closure.filter((f) => opsCode.has(f)));
  // As a chunk it would load a second copy of what it shares with the operations file: worth it only when that copy
  // is clearly larger (4x) than the module's own code. Core's packing (21 KB on top of 1.2 MB of zod and yaml) comes
  // in; Infra's PostgreSQL backend (21 KB, sharing 21 KB) stays a chunk, so no command that does not use it parses it.
  return extra <= NESTED_MAX_BYTES || shared > 4 * extra ? "ops" : chunk;
}
const opsModules = new Set();
const externalChunks = new Set();

/** esbuild plugin for a CommonJS file: each `import()` bundled here, sent to the operations file, or to a chunk. */
const routeDynamicImports = (self) => ({
  name: "route-dynamic-imports",
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind !== "dynamic-import" || args.pluginData === "inner") return undefined;
      const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "inner" });
      if (found.errors.length > 0) return { errors: found.errors };
      if (found.external) return found; // a Node built-in: imported as it is (through the loader, below)
      const module = resolve(found.path);
      if (self === "ops" && args.importer.endsWith(".ops-entry.js")) return found; // the table of operations itself
      // A module an operation imports lazily itself stays lazy (the PostgreSQL backend, 27 KB + the pg driver; in
      // pk3s the catalog parser with zod) unless it adds at most 16 KB to the operations file or shares more with
      // it clearly more than it adds (in Core, packing: 21 KB of its own on top of zod and yaml, which an ESM chunk
      // would load a second time).
      const placement = self === "ops" ? nestedPlacementOf(module) : placementOf(module);
      if (placement === self || (placement === "main" && self === "ops")) return found; // bundled into this file
      if (placement === "ops") {
        opsModules.add(module);
        for (const f of closureOf(chunkOf.get(module))) opsCode.add(f);
        return { path: `ops:${relative(pkgDir, module)}`, external: true };
      }
      externalChunks.add(placement);
      return { path: `./${relative(outdir, placement)}`, external: true };
    });
  },
});

const cjs = {
  ...common,
  format: "cjs",
  // `import.meta.url` of these files: the file URL of the one they are in (package.json lookups walk up from it).
  define: { "import.meta.url": "__pk3sImportMetaUrl" },
};
const metaUrlShim = join(pkgDir, "dist", "bin", `.${bin}.meta-url.js`);
const mainStub = join(pkgDir, "dist", "bin", `.${bin}.cjs-entry.js`);
const opsStub = join(pkgDir, "dist", "bin", `.${bin}.ops-entry.js`);
const mainFile = join(outdir, `${bin}.main.cjs`);
const opsFile = join(outdir, `${bin}.ops.cjs`);
try {
  await writeFile(metaUrlShim, 'export const __pk3sImportMetaUrl = require("node:url").pathToFileURL(__filename).href;\n');
  // 2. The main file. Its source: the two lines of src/bin/<bin>.ts, without top-level await (and without the
  //    hashbang: the loader has it).
  await writeFile(
    mainStub,
    `import { runCli } from "@productive-k3s/pkg-format/cli";\nimport { buildProgram } from "../program.js";\nrunCli(buildProgram());\n`,
  );
  await build({ ...cjs, entryPoints: [mainStub], outfile: mainFile, inject: [metaUrlShim], plugins: [routeDynamicImports("main")] });
  // 3. The operations file: a table of the modules the main file sends there, each loaded on its first import
  //    (an operation importing another one has it bundled in this same file).
  const table = [...opsModules].map((m) => `  ${JSON.stringify(relative(pkgDir, m))}: () => import(${JSON.stringify(m)}),`).join("\n");
  await writeFile(opsStub, `export const modules = {\n${table}\n};\n`);
  await build({ ...cjs, entryPoints: [opsStub], outfile: opsFile, inject: [metaUrlShim], plugins: [routeDynamicImports("ops")] });
} finally {
  for (const f of [metaUrlShim, mainStub, opsStub]) await rm(f, { force: true });
}
await writeFile(join(outdir, "package.json"), '{ "type": "commonjs" }\n');

// Every `import()` left in the two CommonJS files goes through the loader (see the top of this file).
for (const file of [mainFile, opsFile]) {
  // Only calls with a literal specifier are rewritten (an `import(` after a backtick or quote is text in a comment or
  // string of a bundled library); a call with a computed specifier would fail at run time, so it fails the build.
  const text = (await readFile(file, "utf8")).replace(/(?<![\w$.`'"])import\((?=["'])/g, "__pk3sImport(");
  if (/(?<![\w$.`'"])import\(/.test(text)) throw new Error(`${file}: an import() with a computed specifier`);
  await writeFile(file, text);
}

/**
 * The loader's source. It compiles each CommonJS file with its code cache and runs it as a module; `ops:<module>`
 * imports load the operations file once and run that module. With `makeCache`, it also writes each file's cache
 * when the process exits (used below, never shipped).
 */
const loaderSource = (makeCache) => `"use strict";
const { readFileSync${makeCache ? ", writeFileSync" : ""} } = require("node:fs");
const { join } = require("node:path");
const vm = require("node:vm");
function load(name) {
  const file = join(__dirname, name + ".cjs");
  let cachedData;
  try {
    cachedData = readFileSync(join(__dirname, name + ".cache"));
  } catch {}
  const script = new vm.Script(
    "(function (exports, require, module, __filename, __dirname, __pk3sImport) {" + readFileSync(file, "utf8") + "\\n})",
    { filename: file, cachedData },
  );${makeCache ? `\n  process.once("exit", () => writeFileSync(join(__dirname, name + ".cache"), script.createCachedData()));` : ""}
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, file, __dirname, importer);
  return mod.exports;
}
let ops;
function importer(specifier) {
  if (!specifier.startsWith("ops:")) return import(specifier);
  ops ??= load(${JSON.stringify(`${bin}.ops`)});
  return ops.modules[specifier.slice(4)]();
}
load(${JSON.stringify(`${bin}.main`)});
`;
const loaderFile = join(outdir, `${bin}.js`);
await writeFile(
  loaderFile,
  `#!/usr/bin/env -S node --\n// ${bin}: runs ${bin}.main.cjs (and ${bin}.ops.cjs when a command needs it) with V8 code caches: scripts/bundle-cli.mjs.\n${loaderSource(false)}`,
);
await chmod(loaderFile, 0o755);

// The code caches. The main file's: what V8 compiled for `--version` then `--help` (a cache consumed and made
// again keeps what it had). The operations file's: its compilation (the functions an operation runs differ).
const maker = join(outdir, ".make-cache.js");
await writeFile(maker, loaderSource(true));
const run = (args, env = {}) => {
  const r = spawnSync(process.execPath, [maker, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  if (r.status !== 0) throw new Error(`making the code cache of ${bin} (${args.join(" ")}) failed (exit ${r.status}): ${r.stderr}`);
};
try {
  run(["--version"]);
  run(["--help"]);
  const vm = await import("node:vm");
  const source = await readFile(opsFile, "utf8");
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __pk3sImport) {${source}\n})`, {
    filename: opsFile,
  });
  await writeFile(join(outdir, `${bin}.ops.cache`), script.createCachedData());
} finally {
  await rm(maker, { force: true });
}

// Remove build 1's entry and whatever only it used: what remains is what the CommonJS files can reach.
const reachable = new Set();
const visit = (file) => {
  if (reachable.has(file)) return;
  reachable.add(file);
  for (const imp of outputInfo(file)?.imports ?? []) if (!imp.external) visit(resolve(imp.path));
};
for (const chunk of externalChunks) visit(chunk);
for (const out of Object.keys(esm.metafile.outputs)) {
  const file = resolve(out);
  if (!reachable.has(file)) await rm(file, { force: true });
}
process.stdout.write(
  `bundled ${resolve(entry)} → ${relative(pkgDir, loaderFile)}, ${relative(pkgDir, mainFile)}, ${relative(pkgDir, opsFile)} (${opsModules.size} operations), ${reachable.size} chunks\n`,
);
