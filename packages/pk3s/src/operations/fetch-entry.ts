/** Resolve one `[catalog/]name[@range]` and bring its verified bytes into the cache. */
import { warn } from "@productive-k3s/pkg-format/cli";
import type { ResolvedEntry } from "../catalog/loaded-catalog.js";
import { type PackageType, parseSpec, resolveEntry } from "../catalog/resolve.js";
import { type FetchedPackage, fetchPackage } from "../download/download.js";
import { isOciUrl } from "../oci/reference.js";
import { suggestingNames } from "./name-suggestion.js";
import type { Session, SessionOptions } from "./session.js";

export interface FetchFlags {
  offline?: boolean | undefined;
  allowUnverified?: boolean | undefined;
  includePrerelease?: boolean | undefined;
  /** OCI registries: `--ca-file`, `--plain-http`. */
  caFile?: string | undefined;
  plainHttp?: boolean | undefined;
}

/** The session a command with these flags needs. */
export function sessionOptions(flags: FetchFlags): SessionOptions {
  return { offline: flags.offline, registry: { caFile: flags.caFile, plainHttp: flags.plainHttp } };
}

export interface ResolvedPackage {
  entry: ResolvedEntry;
  fetched: FetchedPackage;
}

export async function downloadEntry(session: Session, entry: ResolvedEntry, flags: FetchFlags): Promise<FetchedPackage> {
  if (entry.deprecated === true) warn(`${entry.name}@${entry.version} is deprecated`);
  return fetchPackage(entry, {
    transport: session.transport,
    // A registry's credentials are the registry client's business (never a catalog's): none here.
    auth: isOciUrl(entry.resolvedUrl) ? undefined : await session.authFor(entry),
    allowUnverified: flags.allowUnverified,
    offline: flags.offline,
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
