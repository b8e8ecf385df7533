#!/usr/bin/env node
// Bundle a CLI package's binary into dist/cli/ (run from the package directory after tsc):
//   node ../../scripts/bundle-cli.mjs <bin-name>
//
// Why: start-up is what users feel on every command (issue 7: ≤ 1.5× `node -e 0`). Unbundled, Node's ESM
// loader resolves and realpaths ~20 modules through pnpm's symlinked node_modules before the first line
// runs; one entry file plus lazily loaded chunks cuts about 15 ms of CPU from every start.
// - The entry holds commander and the command tree; each command's operation stays a separate chunk that is
//   loaded by its `await import(...)` only when the command runs (code splitting keeps the laziness).
// - commander is CommonJS and requires Node built-ins: the banner gives the ESM bundle a real `require`.
// - dist/cli/ sits at the same depth as tsc's dist/<dir>/ modules, so `import.meta.url`-relative paths
//   (package.json lookups, the repository's local catalog) resolve the same from both.
import { chmod, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const [bin] = process.argv.slice(2);
if (bin === undefined) {
  process.stderr.write("usage: node scripts/bundle-cli.mjs <bin-name> (run in the package directory)\n");
  process.exit(2);
}
const pkgDir = process.cwd();
const entry = join(pkgDir, "dist", "bin", `${bin}.js`);
const outdir = join(pkgDir, "dist", "cli");
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [entry],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "chunks/[name]-[hash]",
  banner: { js: 'import { createRequire as __pk3sRequire } from "node:module";\nconst require = __pk3sRequire(import.meta.url);' },
  legalComments: "none",
  logLevel: "warning",
});
await chmod(join(outdir, `${bin}.js`), 0o755);
process.stdout.write(`bundled ${resolve(entry)} → ${join(outdir, `${bin}.js`)}\n`);
