/**
 * A package's own identity (kind, metadata.name, metadata.version), read
 * cheaply: the archive is streamed only until a root-level `addon.yaml` or
 * `profile.yaml` (packed packages put it among the first entries), and only
 * the manifest is parsed. A root manifest is the package's one manifest
 * whenever the package is valid at all: a root file rules out the wrapped
 * layout, and a second manifest or a duplicate entry makes the runtimes
 * refuse the whole archive. Archives that do not show a root manifest early
 * (wrapped in a top directory, unusual ordering) get the full inspection.
 *
 * The manifest's three fields are read by the line reader with plain checks (format/manifest-identity.ts): a
 * pull of a well-formed package loads neither zod nor the `yaml` library. Only when that read declines (text
 * outside its subset, a field missing or not what the schema accepts) is the manifest fully parsed, and the
 * inspection, both loaded on demand, so every problem is worded as before. The rest of the manifest is the
 * runtimes' business: Core and Infra validate the whole package before they use it.
 */
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { isPk3sError } from "../errors.js";
import { quickManifestIdentity } from "../format/manifest-identity.js";
import { MANIFEST_FILES, normaliseEntryPath, type PackageKind } from "./archive-scan.js";
import { asChunks, gunzipSmall, readSmallFile } from "./small-input.js";
import { readTar } from "./tar-read.js";

export interface PackageIdentity {
  kind: PackageKind;
  name: string;
  version: string;
}

/** How far the quick read goes before handing over to the full inspection. */
const QUICK_MAX_ENTRIES = 256;
const QUICK_MAX_BYTES = 64 * 1024 * 1024;
const MAX_MANIFEST = 1024 * 1024;

async function identityOf(kind: PackageKind, text: string, file: string): Promise<PackageIdentity> {
  const quick = quickManifestIdentity(kind, text);
  if (quick !== undefined) return quick;
  const { parseAddonManifest, parseProfileManifest } = await import("../format/manifest-parse.js");
  const m = kind === "addon" ? parseAddonManifest(text, file).manifest : parseProfileManifest(text, file).manifest;
  return { kind, name: m.metadata.name, version: m.metadata.version };
}

/** The root manifest's kind and text when it shows early, else undefined. */
async function quickManifest(file: string): Promise<{ kind: PackageKind; text: string } | undefined> {
  const small = readSmallFile(file);
  const plain = small === undefined ? undefined : gunzipSmall(small, QUICK_MAX_BYTES);
  if (plain !== undefined) return manifestIn(asChunks(plain));
  const source = createReadStream(file, { highWaterMark: 256 * 1024 });
  const gunzip = createGunzip();
  source.on("error", (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  let bytes = 0;
  const counted = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > QUICK_MAX_BYTES) return;
      yield chunk;
    }
  };
  try {
    return await manifestIn(counted());
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/** The root manifest among the first entries of a decompressed tar stream. */
async function manifestIn(chunks: AsyncIterable<Buffer>): Promise<{ kind: PackageKind; text: string } | undefined> {
  try {
    let entries = 0;
    for await (const entry of readTar(chunks)) {
      if (++entries > QUICK_MAX_ENTRIES) return undefined;
      if (entry.type !== "file") continue;
      const path = normaliseEntryPath(entry.path, false);
      const kind = path === MANIFEST_FILES.addon ? "addon" : path === MANIFEST_FILES.profile ? "profile" : undefined;
      if (kind === undefined) continue;
      if (entry.size > MAX_MANIFEST) return undefined;
      const parts: Buffer[] = [];
      for await (const chunk of entry.body()) parts.push(Buffer.from(chunk));
      return { kind, text: Buffer.concat(parts).toString("utf8") };
    }
    return undefined;
  } catch (err) {
    // Hostile names are refused here as extraction would; anything else gets the full, precise inspection.
    if (isPk3sError(err)) throw err;
    return undefined;
  }
}

export async function readPackageIdentity(file: string, label = file): Promise<PackageIdentity> {
  const quick = await quickManifest(file);
  if (quick !== undefined) return identityOf(quick.kind, quick.text, `${label}/${MANIFEST_FILES[quick.kind]}`);
  const { inspectPackage } = await import("./inspect.js");
  const inspected = await inspectPackage(file, { label });
  return { kind: inspected.kind, name: inspected.name, version: inspected.version };
}
