/**
 * inspectPackage: metadata, file list, digest and size of a package read
 * straight from the stream, with the same validation as extraction and
 * nothing written to disk.
 */

import type { Problem } from "../errors.js";
import { parseAddonManifest, parseProfileManifest, parseStackManifest } from "../format/manifest-parse.js";
import type { AddonManifest } from "../format/schema-addon.js";
import type { ProfileManifest } from "../format/schema-profile.js";
import type { StackManifest } from "../format/schema-stack.js";
import type { PackageSource } from "./archive-input.js";
import { type ArchiveFile, type PackageKind, scanArchive } from "./archive-scan.js";
import type { Sha256Digest } from "./digest.js";
import { type ExtractLimits, resolveLimits } from "./extract-limits.js";

export interface InspectOptions {
  limits?: Partial<ExtractLimits>;
  strict?: boolean;
  /** How the package is named in problems (default: the file path, or "<stream>"). */
  label?: string;
}

interface InspectedBase {
  name: string;
  version: string;
  files: ArchiveFile[];
  directories: string[];
  digest: Sha256Digest;
  size: number;
  /** "" or the single top-level directory that wraps the package. */
  wrapper: string;
  checksumsVerified: boolean;
  warnings: Problem[];
}
export type InspectedPackage =
  | (InspectedBase & { kind: "addon"; manifest: AddonManifest })
  | (InspectedBase & { kind: "profile"; manifest: ProfileManifest })
  | (InspectedBase & { kind: "stack"; manifest: StackManifest });

export async function inspectPackage(input: PackageSource, options: InspectOptions = {}): Promise<InspectedPackage> {
  const scanned = await scanArchive(input, resolveLimits(options.limits));
  const label = options.label ?? (typeof input === "string" ? input : "<stream>");
  const file = `${label}/${scanned.manifestFile}`;
  const base = {
    files: scanned.files,
    directories: scanned.directories,
    digest: scanned.digest,
    size: scanned.size,
    wrapper: scanned.wrapper,
    checksumsVerified: scanned.checksumsVerified,
  };
  const kind: PackageKind = scanned.kind;
  if (kind === "addon") {
    const parsed = parseAddonManifest(scanned.manifestText, file, { strict: options.strict === true });
    const m = parsed.manifest;
    return { ...base, kind, manifest: m, name: m.metadata.name, version: m.metadata.version, warnings: parsed.warnings };
  }
  if (kind === "stack") {
    const parsed = parseStackManifest(scanned.manifestText, file, { strict: options.strict === true });
    const m = parsed.manifest;
    return { ...base, kind, manifest: m, name: m.metadata.name, version: m.metadata.version, warnings: parsed.warnings };
  }
  const parsed = parseProfileManifest(scanned.manifestText, file, { strict: options.strict === true });
  const m = parsed.manifest;
  return { ...base, kind, manifest: m, name: m.metadata.name, version: m.metadata.version, warnings: parsed.warnings };
}
