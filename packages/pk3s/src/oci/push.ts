/**
 * `pk3s push FILE.tgz oci://HOST/REPO`: publish a package as an OCI artifact (DESIGN §9), the way
 * `helm push` publishes a chart: repository `REPO/<name>`, tag = `metadata.version` (`+` written `_`).
 *
 * The package is validated first (the same inspection as `pk3s verify`/extraction); the manifest carries
 * `artifactType` `application/vnd.productive-k3s.<kind>.v1`, the package manifest as its config blob, the
 * `.tgz` as its one layer, and the `org.opencontainers.image.*` annotations. A tag that already holds
 * other content is refused unless `--force` (consumers may have pinned it); the same content is left as
 * it is. A signature (`FILE.tgz.minisig`, or one made now with `--sign-key`) is pushed as a referring
 * artifact; the package name is added to the repository's names index (`names-index.ts`).
 */
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { warn } from "@productive-k3s/pkg-format/cli";
import { ExitCode, NotFoundError, Pk3sError } from "@productive-k3s/pkg-format/errors";
import type { Transport } from "../fetch/transport.js";
import { uploadBlob } from "./blob-store.js";
import { descriptorOf, type ImageManifest, manifestBytes, parseImageManifest } from "./manifest.js";
import { getManifest, putManifest } from "./manifest-store.js";
import {
  ANNOTATION,
  KIND_ANNOTATION,
  kindOfLayer,
  OCI_MANIFEST,
  PACKAGE_CONFIG,
  type PackageKind,
  packageArtifactType,
  packageLayerType,
} from "./media-types.js";
import { addToNamesIndex, NAMES_TAG } from "./names-index.js";
import { formatReference, parseOciRepository, versionTag } from "./reference.js";
import type { RegistryClient } from "./registry-client.js";
import { pushSignature } from "./signature-artifacts.js";

export interface PushInput {
  file: string;
  destination: string;
  force?: boolean | undefined;
  /** The `.minisig` to push with it (default: FILE.minisig when it exists). */
  signature?: Buffer | undefined;
  transport: Transport;
}

export interface PushResult {
  name: string;
  version: string;
  kind: PackageKind;
  /** `oci://HOST/REPO/NAME:TAG`. */
  reference: string;
  /** `oci://HOST/REPO/NAME@sha256:…`: the exact artifact. */
  pinned: string;
  digest: string;
  layer: { digest: string; size: number };
  /** pushed: new tag; unchanged: the tag already held this package; replaced: --force moved the tag. */
  action: "pushed" | "unchanged" | "replaced";
  signature: { digest: string; tag: string; from: string } | null;
  namesIndex: "added" | "present" | "failed";
}

/** SOURCE_DATE_EPOCH (reproducible publishing) or now, as RFC 3339. */
function createdAt(): string {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const d = epoch !== undefined && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date();
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

interface InspectedForPush {
  kind: PackageKind;
  name: string;
  version: string;
  description: string | undefined;
  manifest: unknown;
  digest: string;
  size: number;
}

async function inspect(file: string): Promise<InspectedForPush> {
  try {
    if (!(await stat(file)).isFile()) throw new NotFoundError(`${file} is not a file`, { where: file });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`package file not found: ${file}`, { where: file });
    throw err;
  }
  const { inspectPackage } = await import("@productive-k3s/pkg-format/inspect");
  const inspected = await inspectPackage(file);
  const metadata = inspected.manifest.metadata as { description?: string | undefined };
  return {
    kind: inspected.kind as PackageKind,
    name: inspected.name,
    version: inspected.version,
    description: metadata.description,
    manifest: inspected.manifest,
    digest: inspected.digest,
    size: inspected.size,
  };
}

function packageManifest(pkg: InspectedForPush, config: Buffer, created: string): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: packageArtifactType(pkg.kind),
    config: descriptorOf(PACKAGE_CONFIG, config),
    layers: [
      {
        mediaType: packageLayerType(pkg.kind),
        digest: pkg.digest,
        size: pkg.size,
        annotations: { [ANNOTATION.title]: `${pkg.name}-${pkg.version}.tgz` },
      },
    ],
    annotations: {
      [ANNOTATION.title]: pkg.name,
      [ANNOTATION.version]: pkg.version,
      ...(pkg.description === undefined ? {} : { [ANNOTATION.description]: pkg.description }),
      [ANNOTATION.created]: created,
      [KIND_ANNOTATION]: pkg.kind,
    },
  };
}

/** What `tag` holds now (its manifest digest, and its package layer when it is a package), or null when it is free. */
async function existingLayer(client: RegistryClient, repository: string, tag: string): Promise<{ digest: string; layer?: string } | null> {
  try {
    const got = await getManifest(client, repository, tag, true);
    let layer: string | undefined;
    try {
      const m = parseImageManifest(got.bytes, `oci://${client.registry}/${repository}:${tag}`);
      layer = m.layers.find((l) => kindOfLayer(l.mediaType) !== undefined)?.digest;
    } catch {
      layer = undefined;
    }
    return { digest: got.digest, ...(layer === undefined ? {} : { layer }) };
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

export async function pushPackage(input: PushInput): Promise<PushResult> {
  const file = resolve(input.file);
  const destination = parseOciRepository(input.destination, "the push destination");
  const pkg = await inspect(file);
  const repository = `${destination.repository}/${pkg.name}`;
  const tag = versionTag(pkg.version);
  const reference = formatReference({ ...destination, repository, tag });
  const signature = input.signature ?? (await readFile(`${file}.minisig`).catch(() => undefined));
  const signatureFrom = input.signature !== undefined ? "--sign-key" : `${file}.minisig`;

  const client = await (await input.transport.registries()).client(destination.registry);
  const created = createdAt();
  const existing = await existingLayer(client, repository, tag);
  let action: PushResult["action"] = existing === null ? "pushed" : "replaced";
  let digest: string;
  let subject: { mediaType: string; digest: string; size: number };
  if (existing !== null && existing.layer === pkg.digest) {
    // The same package is already there: keep its manifest (and digest), which consumers may have pinned.
    action = "unchanged";
    const got = await getManifest(client, repository, existing.digest);
    digest = got.digest;
    subject = { mediaType: OCI_MANIFEST, digest, size: got.bytes.byteLength };
  } else {
    if (existing !== null && input.force !== true) {
      throw new Pk3sError(
        "E_TAG_EXISTS",
        ExitCode.failed,
        `${reference} already exists with other content (${existing.layer === undefined ? `manifest ${existing.digest}` : `package ${existing.layer}`}; this file is ${pkg.digest})`,
        {
          where: reference,
          hint: "a published version is immutable for everyone who pinned it: raise metadata.version, or pass --force to move the tag",
        },
      );
    }
    const config = Buffer.from(JSON.stringify(pkg.manifest), "utf8");
    const manifest = packageManifest(pkg, config, created);
    await uploadBlob(client, repository, manifest.config, () => config, "the package config");
    await uploadBlob(
      client,
      repository,
      manifest.layers[0]!,
      () => ({ stream: createReadStream(file), length: pkg.size }),
      `${pkg.name}-${pkg.version}.tgz`,
    );
    const bytes = manifestBytes(manifest);
    digest = (await putManifest(client, repository, tag, bytes, OCI_MANIFEST)).digest;
    subject = { mediaType: OCI_MANIFEST, digest, size: bytes.byteLength };
  }

  let pushedSignature: PushResult["signature"] = null;
  if (signature !== undefined) {
    const sig = await pushSignature(client, repository, subject, signature, created);
    pushedSignature = { ...sig, from: signatureFrom };
  }

  let namesIndex: PushResult["namesIndex"];
  try {
    namesIndex = await addToNamesIndex(client, destination.repository, pkg.name, created);
  } catch (err) {
    namesIndex = "failed";
    warn(
      `the package is pushed, but the names index oci://${destination.registry}/${destination.repository}:${NAMES_TAG} could not be updated ` +
        `(${err instanceof Error ? err.message : String(err)}); \`pk3s catalog add\` on this repository then relies on the registry listing repositories (_catalog)`,
    );
  }

  return {
    name: pkg.name,
    version: pkg.version,
    kind: pkg.kind,
    reference,
    pinned: formatReference({ ...destination, repository, digest }),
    digest,
    layer: { digest: pkg.digest, size: pkg.size },
    action,
    signature: pushedSignature,
    namesIndex,
  };
}
