/**
 * A package is bound to the catalog entry that named it: after download (or
 * from the cache), its own kind, metadata.name and metadata.version must equal
 * the entry's type, name and version, for every catalog, signed or not. An
 * entry `rancher 9.9.9` pointing at another add-on's bytes is refused (exit 6)
 * before anything is cached or handed to a runtime.
 */
import { IntegrityError } from "@productive-k3s/pkg-format/errors";
import type { ResolvedEntry } from "../catalog/loaded-catalog.js";
import { displayUrl } from "../fetch/fetcher.js";

export async function assertPackageMatchesEntry(file: string, entry: ResolvedEntry): Promise<void> {
  const { readPackageIdentity } = await import("@productive-k3s/pkg-format/package-identity");
  const label = `${entry.name}-${entry.version}.tgz`;
  const own = await readPackageIdentity(file, label);
  if (own.kind === entry.type && own.name === entry.name && own.version === entry.version) return;
  throw new IntegrityError(
    "entry-mismatch",
    `catalog "${entry.catalog}" lists ${entry.type} ${entry.name}@${entry.version}, but its package is ${own.kind} ${own.name}@${own.version}`,
    {
      where: displayUrl(entry.resolvedUrl),
      hint: "the catalog entry points at another package; nothing was cached or run. Tell the catalog's publisher",
    },
  );
}
