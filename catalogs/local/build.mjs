#!/usr/bin/env node
// Rebuild the repository's local catalog (the default catalog of a checkout):
// packs every source under fixtures/addons and fixtures/profiles with the
// deterministic packer into catalogs/local/packages/, then writes
// catalogs/local/index.yaml with `pk3s catalog index`. Needs `pnpm build` first.
// Packing is byte-for-byte reproducible (SOURCE_DATE_EPOCH, default 0), so the
// digests in the committed index.yaml match freshly built packages.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..", "..");
const { packPackage } = await import(join(repo, "packages/pkg-format/dist/archive/pack.js"));
const out = join(here, "packages");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
for (const kind of ["addons", "profiles"]) {
  const root = join(repo, "fixtures", kind);
  for (const name of readdirSync(root).sort()) {
    const r = await packPackage(join(root, name), out, { sourceDateEpoch: epoch });
    process.stderr.write(`packed ${r.kind} ${r.name}@${r.version} ${r.digest}\n`);
  }
}
execFileSync(process.execPath, [join(repo, "packages/pk3s/dist/cli/pk3s.js"), "catalog", "index", out, "--out", join(here, "index.yaml")], {
  stdio: "inherit",
  env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) },
});
