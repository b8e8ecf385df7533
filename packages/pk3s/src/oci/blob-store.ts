/**
 * Blobs in a registry. Every blob read is checked against its descriptor while it streams: more bytes
 * than the descriptor's size stop the transfer at once, and at the end the size and the sha256 must match,
 * or the read fails with an integrity error (exit 6) before the caller can use (or cache) a byte of it.
 * Registries often redirect blob downloads to their storage (S3, a CDN): the transport follows the
 * redirect without the registry's credentials.
 *
 * Uploads are monolithic (POST to open a session, PUT the bytes with `?digest=`), after a HEAD that skips
 * blobs the repository already has.
 */
import { createHash } from "node:crypto";
import { IntegrityError, NotFoundError } from "@productive-k3s/pkg-format/errors";
import type { FetchResponse, RequestBody } from "../fetch/fetcher.js";
import type { Descriptor } from "./manifest.js";
import { repositoryScope } from "./registry-auth.js";
import { locationOf, type RegistryClient, type RegistryRequest } from "./registry-client.js";

function blobPath(repository: string, digest: string): string {
  return `/v2/${repository}/blobs/${digest}`;
}

/** The body of `res`, checked against `descriptor` as it streams. */
export async function* verifiedBody(body: AsyncIterable<Uint8Array>, descriptor: Descriptor, where: string): AsyncGenerator<Uint8Array> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > descriptor.size) {
      throw new IntegrityError("oci-blob-size", `${where}: the registry sent more than the ${descriptor.size} bytes the manifest states`, {
        where,
        hint: "the registry's copy is corrupt or was altered; nothing was cached",
      });
    }
    hash.update(chunk);
    yield chunk;
  }
  if (size !== descriptor.size) {
    throw new IntegrityError("oci-blob-size", `${where}: the registry sent ${size} bytes, the manifest states ${descriptor.size}`, {
      where,
      hint: "the transfer was cut short or the registry's copy is damaged; nothing was cached",
    });
  }
  const actual = `sha256:${hash.digest("hex")}`;
  if (actual !== descriptor.digest) {
    throw new IntegrityError(
      "oci-blob-digest",
      `${where}: digest mismatch: the manifest says ${descriptor.digest}, the registry sent ${actual}`,
      {
        where,
        hint: "the registry's copy is corrupt or was altered; nothing was cached",
      },
    );
  }
}

/** The GET of a blob, and the not-found error that names it. */
function blobGet(
  client: RegistryClient,
  repository: string,
  descriptor: Descriptor,
  label: string,
): { where: string; req: RegistryRequest; missing: () => NotFoundError } {
  const where = `oci://${client.registry}/${repository}@${descriptor.digest}`;
  const req: RegistryRequest = {
    path: blobPath(repository, descriptor.digest),
    scope: repositoryScope(repository),
    label: `${label} (blob ${descriptor.digest})`,
    maxBytes: descriptor.size,
  };
  const missing = (): NotFoundError => new NotFoundError(`${label}: blob ${descriptor.digest} is missing from ${where}`, { where });
  return { where, req, missing };
}

/** Open a blob for streaming; its body throws (exit 6) unless it matches `descriptor` exactly. */
export async function openBlob(client: RegistryClient, repository: string, descriptor: Descriptor, label: string): Promise<FetchResponse> {
  const { where, req: get, missing } = blobGet(client, repository, descriptor, label);
  const req: RegistryRequest = { ...get, expectedBytes: descriptor.size };
  const res = await client.open(req);
  try {
    await client.check(res, req, missing);
  } catch (err) {
    await res.discard();
    throw err;
  }
  return { ...res, body: verifiedBody(res.body, descriptor, `${label} (${where})`) };
}

/** A small blob read whole (a config, a signature), verified; `max` bounds what is accepted. */
export async function readBlob(
  client: RegistryClient,
  repository: string,
  descriptor: Descriptor,
  label: string,
  max: number,
): Promise<Buffer> {
  if (descriptor.size > max) {
    throw new IntegrityError("oci-blob-size", `${label}: ${descriptor.size} bytes, more than the ${max} accepted`, {
      where: `oci://${client.registry}/${repository}@${descriptor.digest}`,
    });
  }
  const { where, req, missing } = blobGet(client, repository, descriptor, label);
  return client.fetch(req, async (res) => {
    await client.check(res, req, missing);
    const chunks: Buffer[] = [];
    for await (const chunk of verifiedBody(res.body, descriptor, `${label} (${where})`)) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  });
}

export async function blobExists(client: RegistryClient, repository: string, digest: string, push = false): Promise<boolean> {
  const req = { method: "HEAD", path: blobPath(repository, digest), scope: repositoryScope(repository, push), label: `blob ${digest}` };
  return client.fetch(req, async (res) => {
    await res.discard();
    if (res.status === 404) return false;
    await client.check(res, req);
    return true;
  });
}

/** Upload a blob unless the repository has it; `body` is made afresh for each attempt. */
export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  descriptor: Descriptor,
  body: () => RequestBody,
  label: string,
): Promise<"uploaded" | "present"> {
  if (await blobExists(client, repository, descriptor.digest, true)) return "present";
  const scope = repositoryScope(repository, true);
  const start = { method: "POST", path: `/v2/${repository}/blobs/uploads/`, scope, label: `upload of ${label}` };
  const location = await client.fetch(start, async (res) => {
    await client.check(res, start);
    await res.discard();
    return locationOf(res);
  });
  if (location === undefined) {
    throw new IntegrityError("oci-upload", `registry ${client.registry} opened an upload for ${label} without a Location`, {
      where: client.registry,
    });
  }
  const target = new URL(location);
  target.searchParams.set("digest", descriptor.digest);
  const put = {
    method: "PUT",
    path: target.toString(),
    scope,
    label: `upload of ${label}`,
    headers: { "content-type": "application/octet-stream" },
    body,
  };
  await client.fetch(put, async (res) => {
    await client.check(res, put);
    await res.discard();
  });
  return "uploaded";
}
