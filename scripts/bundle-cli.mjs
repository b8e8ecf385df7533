#!/usr/bin/env node
// Bundle a CLI package's binary into dist/cli/ (run from the package directory after tsc):
//   node ../../scripts/bundle-cli.mjs <bin-name>
//
// Why: start-up is what users feel on every command (issue 19: ≤ 1.2× `node -e 0`). Measured on this machine
// (CPU time of `pk3s --help`): unbundled ESM through pnpm's symlinks ~105 ms; one ESM bundle whose entry imports
// 4 shared chunks 84 ms; the same code as one CommonJS entry 75 ms, against 64 ms for `node -e 0`. Node's ESM
// loader costs ~1.5 ms per module at start-up and ~4 ms more than CommonJS for the first one.
//
// So the binary is built twice from the same sources:
// 1. An ESM build with code splitting (`chunks/*.mjs`): every operation a command loads with `await import(...)`
//    becomes its own chunk, loaded only by the command that needs it.
// 2. The entry, `dist/cli/<bin>.js`, as one CommonJS file (dist/cli/package.json says so): commander, the command
//    tree and the CLI kit, nothing else. Its `import(...)` calls point at build 1's chunks (from build 1's
//    metafile), so the laziness is kept.
// The small modules both sides use (errors, the CLI kit) exist once in the entry and once in the chunks: errors
// are recognised by their brand, not by class identity (pkg-format/errors.ts `isPk3sError`), and the one such
// module that holds state (pkg-format/state/selection.ts: the --state-backend choice) keeps it on globalThis.
// So: no `instanceof` on a class the main file and a chunk both hold, and no module-level state in them.
// 3. V8's code cache: `<bin>.js` is a small loader that compiles `<bin>.main.cjs` with the cached code of a
//    `--help` and a `--version` run made here (`<bin>.main.cache`), ~4 ms less per start. The entry's `import()` calls become
//    calls of the loader's `import` (code from a V8 code cache cannot use its own). (Node >= 22.1 has
//    module.enableCompileCache(); Node 20 has only vm.Script's cachedData, which works on every version.) A
//    cache from another Node or V8 version is rejected by V8 and the file is compiled as without it.
// dist/cli/ sits at the same depth as tsc's dist/<dir>/ modules, so `import.meta.url`-relative paths (package.json
// lookups, the repository's local catalog) resolve the same from both builds.
import { spawnSync } from "node:child_process";
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";

const [bin] = process.argv.slice(2);
if (bin === undefined) {
  process.stderr.write("usage: node scripts/bundle-cli.mjs <bin-name> (run in the package directory)\n");
  process.exit(2);
}
const pkgDir = process.cwd();
const entry = join(pkgDir, "dist", "bin", `${bin}.js`);
const outdir = join(pkgDir, "dist", "cli");
const common = { bundle: true, platform: "node", target: "node20", legalComments: "none", logLevel: "warning" };
await rm(outdir, { recursive: true, force: true });

/**
 * commander requires node:child_process at load time for one feature we never use (stand-alone executable
 * subcommands); loading it pulls in net, dgram and the stream modules: ~2-3 ms of every start. Its one use,
 * `childProcess.spawn`, now loads the module when called. The build fails if commander's source changes shape.
 */
const lazyCommanderChildProcess = {
  name: "lazy-commander-child-process",
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      const eager = "const childProcess = require('node:child_process');";
      if (!text.includes(eager)) return { errors: [{ text: `${args.path}: commander no longer requires child_process as expected` }] };
      const lazy = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
      return { contents: text.replace(eager, lazy), loader: "js" };
    });
  },
};

/**
 * zod's `z` namespace re-exports all ~50 of its message locales (`z.locales`), and a namespace cannot be tree-shaken:
 * they made up about half of the zod chunk every validating command compiles (no code cache for ESM chunks on
 * Node 20). Only English is ever used (zod configures it itself; we word our own messages), so the bundles get a
 * locales index holding `en` alone. The build fails if zod's index stops listing `en` the way this expects.
 */
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      const en = 'export { default as en } from "./en.js";';
      if (!text.includes(en)) return { errors: [{ text: `${args.path}: zod's locales index no longer exports en as expected` }] };
      return { contents: `${en}\n`, loader: "js", resolveDir: dirname(args.path) };
    });
  },
};

// 1. ESM with code splitting: the chunks. (Its own entry is only a way to reach them; it is removed below.)
const esm = await build({
  ...common,
  entryPoints: { [`${bin}.esm`]: entry },
  outdir,
  splitting: true,
  format: "esm",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  plugins: [zodEnglishOnly],
  // commander is CommonJS and requires Node built-ins: the banner gives the ESM chunks a real `require`.
  banner: { js: 'import { createRequire as __pk3sRequire } from "node:module";\nconst require = __pk3sRequire(import.meta.url);' },
  metafile: true,
  write: true,
});

/** Source module (absolute) → its chunk, for every module build 1 split out (the targets of `import(...)`). */
const chunkOf = new Map();
for (const [out, info] of Object.entries(esm.metafile.outputs)) {
  if (info.entryPoint !== undefined && out.includes("/chunks/")) chunkOf.set(resolve(info.entryPoint), resolve(out));
}
/** Bytes of a chunk and every chunk it imports: what loading it costs. */
const closureBytes = (chunk) => {
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return 0;
    seen.add(file);
    const info = esm.metafile.outputs[relative(process.cwd(), file)];
    return (info?.bytes ?? 0) + (info?.imports ?? []).filter((i) => !i.external).reduce((n, i) => n + walk(resolve(i.path)), 0);
  };
  return walk(chunk);
};
// A lazily loaded module this small is cheaper inside the entry (still evaluated only when imported: esbuild
// wraps it) than as ESM files loaded at run time (~1.5 ms each): e.g. `--version`'s five small chunks.
const INLINE_MAX_BYTES = 32 * 1024;

// 2. The CommonJS entry. Its source: the same two lines as src/bin/<bin>.ts, without top-level await (and without
//    the hashbang: the loader below has it).
const stub = join(pkgDir, "dist", "bin", `.${bin}.cjs-entry.js`);
await writeFile(
  stub,
  `import { runCli } from "@productive-k3s/pkg-format/cli";\nimport { buildProgram } from "../program.js";\nrunCli(buildProgram(process.argv.slice(2)));\n`,
);
const metaUrlShim = join(pkgDir, "dist", "bin", `.${bin}.meta-url.js`);
await writeFile(metaUrlShim, 'export const __pk3sImportMetaUrl = require("node:url").pathToFileURL(__filename).href;\n');
const outfile = join(outdir, `${bin}.main.cjs`);
const loaderFile = join(outdir, `${bin}.js`);
const cacheFile = join(outdir, `${bin}.main.cache`);
const external = new Set();
try {
  await build({
    ...common,
    entryPoints: [stub],
    outfile,
    format: "cjs",
    // `import.meta.url` of the entry: its own file URL (package.json lookups walk up from it).
    inject: [metaUrlShim],
    define: { "import.meta.url": "__pk3sImportMetaUrl" },
    plugins: [
      lazyCommanderChildProcess,
      zodEnglishOnly,
      {
        name: "dynamic-imports-to-chunks",
        setup(b) {
          b.onResolve({ filter: /.*/ }, async (args) => {
            if (args.kind !== "dynamic-import" || args.pluginData === "inner") return undefined;
            const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "inner" });
            const chunk = chunkOf.get(resolve(found.path));
            if (chunk === undefined) return { errors: [{ text: `${args.path}: no chunk for this dynamic import in the ESM build` }] };
            if (closureBytes(chunk) <= INLINE_MAX_BYTES) return found; // bundled into the entry
            external.add(chunk);
            return { path: `./${relative(outdir, chunk)}`, external: true };
          });
        },
      },
    ],
  });
} finally {
  await rm(stub, { force: true });
  await rm(metaUrlShim, { force: true });
}
await writeFile(join(outdir, "package.json"), '{ "type": "commonjs" }\n');
// Code compiled by vm.Script cannot use `import()` once it comes from a code cache (V8 drops the host options that
// route it to Node's loader): the entry's lazy imports call the loader's own `import` instead.
const mainText = await readFile(outfile, "utf8");
const rewritten = mainText.replaceAll('import("./chunks/', '__pk3sImport("./chunks/');
if (/\bimport\(/.test(rewritten.replace(/__pk3sImport\(/g, ""))) throw new Error(`${outfile}: an import() the loader does not route`);
// The file holds the function the loader calls, so the loader compiles the bytes it read as they are (no second
// copy of a 200 KB string to wrap it: less to allocate, fewer scavenges before the first line runs). The same file
// is also a CommonJS module exporting that function (Node >= 22.1 requires it, for its compile cache: see the
// loader): as a vm.Script's value the expression is the function; inside a module it is also module.exports.
await writeFile(
  outfile,
  `((main) => (typeof module === "object" && module !== null ? (module.exports = main) : main))(function (exports, require, module, __filename, __dirname, __pk3sImport) {${rewritten}\n})`,
);

/** Compiles the entry with its code cache and runs it as a CommonJS module (shared by the loader and the cache maker). */
const compileEntry = (main, cache) => `const { readFileSync } = require("node:fs");
const vm = require("node:vm");
const file = ${main};
let cachedData;
try {
  cachedData = readFileSync(${cache});
} catch {}
const script = new vm.Script(readFileSync(file, "utf8"), { filename: file, cachedData });`;
// 4. The Node floor: package.json's engines.node (npm only warns), checked by the loader before it loads anything,
//    in code every Node runs: below it, one line and exit 5 (a missing external tool, DESIGN §4), not a crash or a
//    silent difference later (Node 18 ignores createWriteStream's `flush`, the fsync atomic writes rely on).
const { engines } = JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8"));
const floor = /^>=(\d+)\.(\d+)$/.exec(engines?.node ?? "");
if (floor === null)
  throw new Error(`${pkgDir}/package.json: engines.node must be ">=MAJOR.MINOR" (the loader checks it), not ${engines?.node}`);
const [floorMajor, floorMinor] = [Number(floor[1]), Number(floor[2])];
const nodeFloorCheck = `{
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < ${floorMajor} || (major === ${floorMajor} && minor < ${floorMinor})) {
    process.stderr.write(${JSON.stringify(`${bin} needs Node.js ${floorMajor}.${floorMinor} or newer; this is `)} + process.version + ". Install Node 22 or 24 LTS.\\n");
    process.exit(5);
  }
}`;
// 5. Node >= 22.1 (module.enableCompileCache): V8 rejects the build-time cache (made by the Node 20 that built it:
//    another V8), so without more every start would compile the main file from source. There the loader turns
//    on Node's own compile cache, which also covers the ESM chunks, and requires the main file as a module. The
//    cache directory is private: $XDG_CACHE_HOME (absolute) or ~/.cache, then productive-k3s/compile-cache,
//    created 0700, and used only when it is a real directory of this user that no one else can write (never a
//    shared /tmp directory: a cache entry planted there would be code this user runs). Anything else (no home,
//    a read-only or foreign directory) runs without the cache, silently: a cache is never worth a failed start.
//    NODE_COMPILE_CACHE / NODE_DISABLE_COMPILE_CACHE keep their meaning (Node honours them first).
const privateCompileCache = `function privateCompileCache(enable) {
  const { env } = process;
  const base = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME.startsWith("/") ? env.XDG_CACHE_HOME : env.HOME ? env.HOME + "/.cache" : undefined;
  if (base === undefined || typeof process.getuid !== "function") return;
  const dir = base + "/productive-k3s/compile-cache";
  try {
    const fs = require("node:fs");
    // Level by level, not { recursive: true }: that never returns for a path under /proc (Node 20-24).
    for (const level of [base, base + "/productive-k3s", dir]) {
      try {
        fs.mkdirSync(level, { mode: 0o700 });
      } catch (err) {
        if (err.code !== "EEXIST") return;
      }
    }
    const st = fs.lstatSync(dir);
    if (st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o022) === 0) enable(dir);
  } catch {}
}`;
await writeFile(
  loaderFile,
  `#!/usr/bin/env -S node --
// ${bin}: runs ${bin}.main.cjs with V8's code cache: on Node 20 the one made when it was built (${bin}.main.cache),
// on Node >= 22.1 Node's compile cache in a private directory (scripts/bundle-cli.mjs says why).
"use strict";
${nodeFloorCheck}
const { enableCompileCache } = require("node:module");
if (typeof enableCompileCache === "function") {
  ${privateCompileCache.replaceAll("\n", "\n  ")}
  privateCompileCache(enableCompileCache);
  const file = require("node:path").join(__dirname, ${JSON.stringify(`${bin}.main.cjs`)});
  require(file)(exports, require, module, file, __dirname, (specifier) => import(specifier));
} else {
  ${compileEntry(`require("node:path").join(__dirname, ${JSON.stringify(`${bin}.main.cjs`)})`, `require("node:path").join(__dirname, ${JSON.stringify(`${bin}.main.cache`)})`).replaceAll("\n", "\n  ")}
  script.runInThisContext()(exports, require, module, file, __dirname, (specifier) => import(specifier));
}
`,
);
await chmod(loaderFile, 0o755);
// The cache: what V8 compiled for a `--help` and a `--version` run, one after the other in one process (the
// command tree, option parsing, help layout, output); each run ends in process.exit, which here starts the next.
const maker = `${compileEntry(JSON.stringify(outfile), JSON.stringify(`${cacheFile}.none`))}
const main = script.runInThisContext();
const exit = process.exit;
(async () => {
  for (const flag of ["--help", "--version"]) {
    await new Promise((resolve) => {
      process.exit = resolve;
      process.argv = [process.argv[0], file, flag];
      main(exports, require, module, file, require("node:path").dirname(file), (specifier) => import(specifier));
    });
  }
  require("node:fs").writeFileSync(${JSON.stringify(cacheFile)}, script.createCachedData());
  exit(0);
})();
`;
const made = spawnSync(process.execPath, ["-e", maker], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, NO_COLOR: "1" } });
if (made.status !== 0) throw new Error(`making the code cache of ${bin} failed (exit ${made.status})`);

// Remove build 1's entry and whatever only it used: what remains is what the CommonJS entry can reach.
const reachable = new Set();
const visit = (file) => {
  if (reachable.has(file)) return;
  reachable.add(file);
  for (const imp of esm.metafile.outputs[relative(process.cwd(), file)]?.imports ?? []) {
    if (!imp.external) visit(resolve(imp.path));
  }
};
for (const chunk of external) visit(chunk);
for (const out of Object.keys(esm.metafile.outputs)) {
  const file = resolve(out);
  if (!reachable.has(file)) await rm(file, { force: true });
}
process.stdout.write(`bundled ${resolve(entry)} → ${loaderFile} + ${outfile} (+ ${reachable.size} lazily loaded chunks)\n`);
