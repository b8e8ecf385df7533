/**
 * Manifests in a registry: GET (size-capped at 4 MiB, digest checked: against the reference when it is a
 * digest, and against the registry's `Docker-Content-Digest` when it sends one), HEAD, PUT. A manifest is
 * kept in memory by digest for the rest of the command (resolving, then downloading, reads it once).
 */
import { IntegrityError, NotFoundError } from "@productive-k3s/pkg-format/errors";
import { MAX_MANIFEST_BYTES, sha256Digest } from "./manifest.js";
import { MANIFEST_ACCEPT } from "./media-types.js";
import { repositoryScope } from "./registry-auth.js";
import { headerOf, type RegistryClient } from "./registry-client.js";

export interface ManifestBytes {
  digest: string;
  bytes: Buffer;
  /** The Content-Type the registry served it with. */
  contentType: string | undefined;
}

const isDigest = (reference: string): boolean => reference.startsWith("sha256:");

const memo = new WeakMap<RegistryClient, Map<string, ManifestBytes>>();

function memoOf(client: RegistryClient): Map<string, ManifestBytes> {
  let m = memo.get(client);
  if (m === undefined) {
    m = new Map();
    memo.set(client, m);
  }
  return m;
}

function shown(client: RegistryClient, repository: string, reference: string): string {
  return `oci://${client.registry}/${repository}${isDigest(reference) ? "@" : ":"}${reference}`;
}

/**
 * The manifest `reference` (tag or digest) of `repository`; NotFoundError (exit 3) when there is none.
 * `fresh` asks the registry again for a tag read earlier in this command.
 */
export async function getManifest(client: RegistryClient, repository: string, reference: string, fresh = false): Promise<ManifestBytes> {
  const cache = memoOf(client);
  const hit = fresh && !isDigest(reference) ? undefined : cache.get(`${repository}@${reference}`);
  if (hit !== undefined) return hit;
  const where = shown(client, repository, reference);
  const req = {
    path: `/v2/${repository}/manifests/${reference}`,
    scope: repositoryScope(repository),
    label: `manifest ${where}`,
    headers: { accept: MANIFEST_ACCEPT },
    maxBytes: MAX_MANIFEST_BYTES,
  };
  const got = await client.fetch(req, async (res) => {
    await client.check(res, req, () => new NotFoundError(`${where} not found`, { where, hint: "check the name and version (tag)" }));
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > MAX_MANIFEST_BYTES) {
        throw new IntegrityError("oci-manifest-too-large", `${where}: the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, { where });
      }
      chunks.push(Buffer.from(chunk));
    }
    return { bytes: Buffer.concat(chunks), contentType: headerOf(res, "content-type"), claimed: headerOf(res, "docker-content-digest") };
  });
  const digest = sha256Digest(got.bytes);
  if (isDigest(reference) && digest !== reference) {
    throw new IntegrityError("oci-manifest-digest", `${where}: the registry sent a manifest whose digest is ${digest}`, {
      where,
      hint: "the registry's copy is corrupt or was altered; nothing was used",
    });
  }
  if (got.claimed !== undefined && got.claimed !== digest) {
    throw new IntegrityError(
      "oci-manifest-digest",
      `${where}: the registry says ${got.claimed} but sent a manifest whose digest is ${digest}`,
      {
        where,
      },
    );
  }
  const result: ManifestBytes = { digest, bytes: got.bytes, contentType: got.contentType };
  cache.set(`${repository}@${reference}`, result);
  cache.set(`${repository}@${digest}`, result);
  return result;
}

/** The digest a tag points to now, or undefined when the tag does not exist. */
export async function headManifest(client: RegistryClient, repository: string, reference: string): Promise<string | undefined> {
  const req = {
    method: "HEAD",
    path: `/v2/${repository}/manifests/${reference}`,
    scope: repositoryScope(repository),
    label: `manifest ${shown(client, repository, reference)}`,
    headers: { accept: MANIFEST_ACCEPT },
  };
  return client.fetch(req, async (res) => {
    await res.discard();
    if (res.status === 404) return undefined;
    await client.check(res, req);
    return headerOf(res, "docker-content-digest");
  });
}

export interface PutManifestResult {
  digest: string;
  /** The registry processed the manifest's `subject` (OCI 1.1 referrers API: `OCI-Subject` header). */
  subjectProcessed: boolean;
}

/** PUT `bytes` as `reference` (a tag or its digest); the registry's digest must be ours. */
export async function putManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
): Promise<PutManifestResult> {
  const where = shown(client, repository, reference);
  const req = {
    method: "PUT",
    path: `/v2/${repository}/manifests/${reference}`,
    scope: repositoryScope(repository, true),
    label: `manifest ${where}`,
    headers: { "content-type": mediaType },
    body: () => bytes,
  };
  const digest = sha256Digest(bytes);
  return client.fetch(req, async (res) => {
    await client.check(res, req);
    await res.discard();
    const stored = headerOf(res, "docker-content-digest");
    if (stored !== undefined && stored !== digest) {
      throw new IntegrityError("oci-manifest-digest", `${where}: the registry stored the manifest as ${stored}, pk3s sent ${digest}`, {
        where,
        hint: "the registry rewrote the manifest; pk3s references packages by the digest of what it pushed",
      });
    }
    const pushed = { digest, bytes, contentType: mediaType };
    memoOf(client).set(`${repository}@${digest}`, pushed);
    memoOf(client).set(`${repository}@${reference}`, pushed);
    return { digest, subjectProcessed: headerOf(res, "oci-subject") !== undefined };
  });
}
