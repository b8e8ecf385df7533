/**
 * Local catalogs (a path or `file://`): read where they are, in slices (`index-bytes.ts`: a 100,000-entry
 * index is never held whole); an unchanged file is not even re-read.
 */
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { NotFoundError } from "@productive-k3s/pkg-format/errors";
import { CatalogTrust } from "../trust/catalog-trust.js";
import { indexFile } from "./index-bytes.js";
import { countOnlyRead, parseTrustedIndex, withSource } from "./indexed-entries.js";
import type { CatalogLoader } from "./loaded-catalog.js";

export const loadFileCatalog: CatalogLoader = async (source, cache, options) => {
  const path = fileURLToPath(source.url);
  /** A missing index (or a path through a file) is "not found"; anything else propagates. */
  const notFound = (err: unknown): never => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new NotFoundError(`catalog "${source.name}": index not found at ${path}`, {
        where: path,
        hint: "create it with `pk3s catalog index <dir>` or fix the path with `pk3s catalog remove` + `pk3s catalog add`",
      });
    }
    throw err;
  };
  const st = await stat(path, { bigint: true }).catch(notFound);
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const trust = await CatalogTrust.of(source);
  // Unchanged file (same inode, size and ns times): use the parsed cache without reading or hashing the index.
  // A signed catalog is read and verified every time (its signature and expiry are checked on each use).
  const known = trust === undefined ? await cache.readFileStatKey() : undefined;
  if (known?.key === key) {
    const compact = await cache.readEntries(known.sha256, options.query);
    if (compact !== undefined) return { source, ...withSource(source, compact), origin: "file" };
  }
  const index = await indexFile(path, { signed: trust !== undefined }).catch(notFound);
  const count = options.countOnly === true ? countOnlyRead(source) : undefined;
  const read = {
    query: count?.query ?? options.query,
    inspect: count?.inspect,
    companions: { indexUrl: source.url, transport: options.transport, label: `catalog "${source.name}"` },
  };
  const { parsed } = await parseTrustedIndex(cache, index, read, trust, { transport: options.transport });
  await cache.writeFileStatKey({ key, sha256: parsed.sha256 }).catch(() => undefined); // an optimisation only
  return { source, ...withSource(source, parsed, count), origin: "file" };
};
