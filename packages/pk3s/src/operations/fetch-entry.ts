/** Resolve one `[catalog/]name[@range]` and bring its verified bytes into the cache. */
import { warn } from "@productive-k3s/pkg-format/cli";
import { IntegrityError } from "@productive-k3s/pkg-format/errors";
import type { ResolvedEntry } from "../catalog/loaded-catalog.js";
import { type PackageType, parseSpec, resolveEntry } from "../catalog/resolve.js";
import { type FetchedPackage, fetchPackage } from "../download/download.js";
import { assertPackageMatchesEntry } from "../download/package-binding.js";
import { displayUrl } from "../fetch/fetcher.js";
import { isOciUrl } from "../oci/reference.js";
import { verifyPackageSignature } from "../trust/catalog-trust.js";
import { suggestingNames } from "./name-suggestion.js";
import type { Session, SessionOptions } from "./session.js";

export interface FetchFlags {
  offline?: boolean | undefined;
  requireSignatures?: boolean | undefined;
  allowUnverified?: boolean | undefined;
  includePrerelease?: boolean | undefined;
  /** OCI registries: `--ca-file`, `--plain-http`. */
  caFile?: string | undefined;
  plainHttp?: boolean | undefined;
}

/** The session a command with these flags needs. */
export function sessionOptions(flags: FetchFlags): SessionOptions {
  return {
    offline: flags.offline,
    requireSignatures: flags.requireSignatures,
    registry: { caFile: flags.caFile, plainHttp: flags.plainHttp },
  };
}

export interface ResolvedPackage {
  entry: ResolvedEntry;
  fetched: FetchedPackage;
}

/**
 * The verified bytes of one entry: digest, then (for a catalog with trusted keys) the package's signature, then
 * the package's own identity against the entry, all before the bytes are cached or used.
 */
export async function downloadEntry(session: Session, entry: ResolvedEntry, flags: FetchFlags): Promise<FetchedPackage> {
  if (entry.deprecated === true) warn(`${entry.name}@${entry.version} is deprecated`);
  // A registry's credentials are the registry client's business (never a catalog's): none here.
  const auth = isOciUrl(entry.resolvedUrl) ? undefined : await session.authFor(entry);
  const trust = await session.trustFor(entry);
  if (trust !== undefined && (entry.digest === undefined || entry.digest === "")) {
    throw new IntegrityError("no-digest", `${entry.name}@${entry.version} in signed catalog "${entry.catalog}" has no digest`, {
      where: displayUrl(entry.resolvedUrl),
      hint: "a signed index pins every package by digest (pk3s catalog index writes them); --allow-unverified does not apply",
    });
  }
  return fetchPackage(entry, {
    transport: session.transport,
    auth,
    allowUnverified: flags.allowUnverified,
    offline: flags.offline,
    accept: async (file, fromCache) => {
      // A cached copy was signature-checked when it came in, and its digest is pinned by the verified index.
      if (trust !== undefined && !fromCache) await verifyPackageSignature(trust, file, entry, session.transport, auth);
      await assertPackageMatchesEntry(file, entry);
    },
  });
}

export async function resolveAndFetch(session: Session, rawSpec: string, type: PackageType, flags: FetchFlags): Promise<ResolvedPackage> {
  if (isOciUrl(rawSpec)) {
    // Registry code (and zod with it) loads only for an oci:// reference.
    const { resolveOciReference } = await import("./oci-reference.js");
    const { entry } = await resolveOciReference(session, rawSpec, type);
    return { entry, fetched: await downloadEntry(session, entry, flags) };
  }
  const spec = parseSpec(rawSpec);
  const catalogs = await session.catalogs(spec, false, { names: new Set([spec.name]) });
  const entry = await suggestingNames(session, async () =>
    resolveEntry(catalogs, spec, { type, includePrerelease: flags.includePrerelease }),
  );
  return { entry, fetched: await downloadEntry(session, entry, flags) };
}
