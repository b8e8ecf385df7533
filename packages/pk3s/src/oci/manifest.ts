/**
 * OCI image manifests and indexes as zod schemas (the fields pk3s reads or writes; others are kept in the
 * bytes and ignored), their parsing with precise errors, and the manifests pk3s publishes.
 *
 * A manifest is at most 4 MiB (the limit distribution itself enforces on PUT): a registry sending more is
 * refused before the body is read whole.
 */
import { createHash } from "node:crypto";
import { IntegrityError } from "@productive-k3s/pkg-format/errors";
import { z } from "zod";
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  EMPTY_JSON,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
  SIGNATURE_ARTIFACT,
  SIGNATURE_LAYER,
} from "./media-types.js";

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const digestString = z.string().regex(/^sha256:[0-9a-f]{64}$/, { error: "expected sha256:<64 lowercase hex>" });
const annotations = z.record(z.string(), z.string());

export const Descriptor = z.object({
  mediaType: z.string().min(1),
  digest: digestString,
  size: z.number().int().nonnegative(),
  artifactType: z.string().optional(),
  annotations: annotations.optional(),
});
export type Descriptor = z.infer<typeof Descriptor>;

export const ImageManifest = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.enum([OCI_MANIFEST, DOCKER_MANIFEST]).optional(),
  artifactType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
  subject: Descriptor.optional(),
  annotations: annotations.optional(),
});
export type ImageManifest = z.infer<typeof ImageManifest>;

export const ImageIndex = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.enum([OCI_INDEX, DOCKER_MANIFEST_LIST]).optional(),
  manifests: z.array(Descriptor),
});
export type ImageIndex = z.infer<typeof ImageIndex>;

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

export function descriptorOf(mediaType: string, bytes: Uint8Array, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength, ...extra };
}

function problems(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length === 0 ? "(root)" : i.path.join(".")}: ${i.message}`)
    .join("; ");
}

function parseJson(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new IntegrityError("oci-manifest-invalid", `${where}: the registry sent a manifest that is not JSON`, { where });
  }
}

/** An image manifest (a package or a signature); an index or anything else is refused, saying what it is. */
export function parseImageManifest(bytes: Uint8Array, where: string): ImageManifest {
  const doc = parseJson(bytes, where);
  const mediaType = (doc as { mediaType?: unknown } | null)?.mediaType;
  if (mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST) {
    throw new IntegrityError("oci-not-a-package", `${where} is an image index (several manifests), not a pk3s package`, {
      where,
      hint: "pk3s packages are single manifests pushed with pk3s push",
    });
  }
  const parsed = ImageManifest.safeParse(doc);
  if (!parsed.success) {
    throw new IntegrityError("oci-manifest-invalid", `${where}: not a valid OCI image manifest (${problems(parsed.error)})`, { where });
  }
  return parsed.data;
}

export function parseImageIndex(bytes: Uint8Array, where: string): ImageIndex {
  const parsed = ImageIndex.safeParse(parseJson(bytes, where));
  if (!parsed.success) {
    throw new IntegrityError("oci-index-invalid", `${where}: not a valid OCI image index (${problems(parsed.error)})`, { where });
  }
  return parsed.data;
}

/** Manifest bytes as pk3s writes them: fixed key order (the object's), no whitespace. */
export function manifestBytes(manifest: ImageManifest): Buffer {
  return Buffer.from(JSON.stringify(manifest), "utf8");
}

/** The signature artifact of a package manifest: the `.minisig` as its one layer, the package as its subject. */
export function signatureManifest(subject: Descriptor, minisig: Uint8Array, created: string): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGNATURE_ARTIFACT,
    config: descriptorOf(OCI_EMPTY, EMPTY_JSON),
    layers: [descriptorOf(SIGNATURE_LAYER, minisig)],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { "org.opencontainers.image.created": created },
  };
}

/** The tag under which a registry without the referrers API finds the signature of `digest`. */
export function signatureTag(digest: string): string {
  return `${digest.replace(":", "-")}.sig`;
}
