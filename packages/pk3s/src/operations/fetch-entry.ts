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

/** What a lock asks of a package's signature (stacks): checked every time, and by the key the lock records. */
export interface SignaturePin {
  /** Verify the signature even for a cached copy, to learn (and report) the key that signed it. */
  always: boolean;
  /** The key id a lock recorded: a package signed by another key, or from a catalog no longer signed, is refused. */
  keyId?: string | undefined;
}

export interface DownloadedEntry extends FetchedPackage {
  /** The key id whose signature verified the bytes in this run (undefined when none was checked). */
  signingKeyId?: string | undefined;
}

function pinnedKeyError(entry: ResolvedEntry, keyId: string, found: string | undefined): IntegrityError {
  const what = `${entry.name}@${entry.version}`;
  return new IntegrityError(
    "signing-key-changed",
    found === undefined
      ? `${what}: the lock records signing key ${keyId}, but catalog "${entry.catalog}" has no trusted keys now, so its signature cannot be checked`
      : `${what} is signed by key ${found}, but the lock records key ${keyId}`,
    {
      where: displayUrl(entry.resolvedUrl),
      hint: "if the publisher really rotated its key, trust the new key and refresh the lock: pk3s lock --update <stack file>",
    },
  );
}

/**
 * The verified bytes of one entry: digest, then (for a catalog with trusted keys) the package's signature, then
 * the package's own identity against the entry, all before the bytes are cached or used.
 */
export async function downloadEntry(
  session: Session,
  entry: ResolvedEntry,
  flags: FetchFlags,
  pin?: SignaturePin,
): Promise<DownloadedEntry> {
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
  if (trust === undefined && pin?.keyId !== undefined) throw pinnedKeyError(entry, pin.keyId, undefined);
  let signingKeyId: string | undefined;
  const fetched = await fetchPackage(entry, {
    transport: session.transport,
    auth,
    allowUnverified: flags.allowUnverified,
    offline: flags.offline,
    accept: async (file, fromCache) => {
      // A cached copy's digest is pinned by the verified index, and its signature was checked when it came in;
      // a registry catalog's index is not signed, so there (and for a stack's lock) the signature is checked every time.
      if (trust !== undefined && (!fromCache || !trust.indexSigned || pin?.always === true)) {
        if (fromCache && flags.offline === true && pin?.keyId !== undefined) {
          // Offline from a lock: its digest pins bytes whose signature by this key was verified when it was written.
          signingKeyId = pin.keyId;
        } else if (fromCache && flags.offline === true) {
          throw new IntegrityError(
            "signature-unverifiable-offline",
            `${entry.name}@${entry.version}: the signature of the cached package cannot be fetched with --offline`,
            {
              where: displayUrl(entry.resolvedUrl),
              hint: trust.indexSigned
                ? "run online: writing a lock records the key that signed each package, which takes its signature"
                : "run online: a registry catalog's index is not signed, so each package's signature is checked every time",
            },
          );
        } else {
          signingKeyId = await verifyPackageSignature(trust, file, entry, session.transport, auth);
          if (pin?.keyId !== undefined && signingKeyId !== pin.keyId) throw pinnedKeyError(entry, pin.keyId, signingKeyId);
        }
      }
      await assertPackageMatchesEntry(file, entry);
    },
  });
  return { ...fetched, ...(signingKeyId === undefined ? {} : { signingKeyId }) };
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
