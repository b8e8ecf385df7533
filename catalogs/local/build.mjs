#!/usr/bin/env node
// Rebuild the repository's local catalog (the default catalog of a checkout): packs every source under
// fixtures/addons and fixtures/profiles with the deterministic packer into catalogs/local/packages/, then
// writes catalogs/local/index.yaml with `pk3s catalog index` (scripts/pack-catalog.mjs). Needs `pnpm build`
// first. Packing is byte-for-byte reproducible (SOURCE_DATE_EPOCH, default 0), so the digests in the committed
// index.yaml match freshly built packages.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
execFileSync(process.execPath, ["--", join(repo, "scripts/pack-catalog.mjs"), join(repo, "fixtures"), join(repo, "catalogs/local")], {
  stdio: "inherit",
});
