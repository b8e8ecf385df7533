#!/usr/bin/env node
// Pack a folder of package sources into a catalog:
//   node scripts/pack-catalog.mjs <sources> <catalog-dir>
// packs every <sources>/addons/* and <sources>/profiles/* with the deterministic packer into
// <catalog-dir>/packages/, then writes <catalog-dir>/index.yaml with `pk3s catalog index` (entry URLs relative
// to the index). Needs the built pkg-format and pk3s (`pnpm build`). Packing is byte-for-byte reproducible
// (SOURCE_DATE_EPOCH, default 0), so the digests in an index match freshly built packages.
// Used for the checkout's catalogs/local (catalogs/local/build.mjs) and for the examples catalog packed into
// the pk3s npm package at build time (packages/pk3s: examples-src → examples).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));
const [sources, catalogDir] = process.argv.slice(2).map((p) => resolve(p));
if (sources === undefined || catalogDir === undefined) {
  process.stderr.write(
    "usage: node scripts/pack-catalog.mjs <sources> <catalog-dir>\nExample: node scripts/pack-catalog.mjs fixtures catalogs/local\n",
  );
  process.exit(2);
}
const { packPackage } = await import(join(repo, "packages/pkg-format/dist/archive/pack.js"));
const out = join(catalogDir, "packages");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
for (const kind of ["addons", "profiles"]) {
  const root = join(sources, kind);
  if (!existsSync(root)) continue;
  for (const name of readdirSync(root).sort()) {
    const r = await packPackage(join(root, name), out, { sourceDateEpoch: epoch });
    process.stderr.write(`packed ${r.kind} ${r.name}@${r.version} ${r.digest}\n`);
  }
}
// `node --`: our --out must never be read by Node itself (the same guard as the installed bins).
execFileSync(
  process.execPath,
  ["--", join(repo, "packages/pk3s/dist/cli/pk3s.js"), "catalog", "index", out, "--out", join(catalogDir, "index.yaml")],
  {
    stdio: "inherit",
    env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
  },
);
