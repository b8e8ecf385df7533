/**
 * Public API of @productive-k3s/pkg-format: the package format itself —
 * schemas and their types, manifest/catalog/env-file parsing, name rules,
 * package validation, deterministic packing, safe extraction, inspection,
 * digests and checksums, and the typed errors they throw.
 *
 * The CLI kit (`/cli`, `/text-table`, `/terminal-text`, `/shell-quote`) and the
 * host helpers (`/process`, `/atomic`, `/lock`, `/paths`, `/redact`,
 * `/version`) are shared by the three binaries and are subpath exports only:
 * they are not the format, and a CLI importing them must not load zod, yaml
 * and the archive code at start-up. The tar reader/writer and the archive
 * scanner are internal (not exported at all). package.json's `exports` lists
 * every public subpath.
 */

export type { PackageSource } from "./archive/archive-input.js";
export { type ArchiveFile, MANIFEST_FILES, type PackageKind } from "./archive/archive-scan.js";
export { CHECKSUMS_FILE, formatChecksums, parseChecksums } from "./archive/checksums.js";
export {
  createHashingStream,
  DIGEST_PATTERN,
  formatDigest,
  HashingStream,
  type Sha256Digest,
  sha256File,
  sha256Hex,
} from "./archive/digest.js";
export {
  type ExtractedPackage,
  type ExtractOptions,
  extractPackage,
  type OpenedPackage,
  type OpenOptions,
  openPackage,
  type ValidateArchiveOptions,
  type ValidatedArchive,
  validatePackageArchive,
} from "./archive/extract.js";
export { DEFAULT_LIMITS, type ExtractLimits, resolveLimits } from "./archive/extract-limits.js";
export { DEFAULT_IGNORES, IGNORE_FILE, IgnoreRules } from "./archive/ignore-rules.js";
export { type InspectedPackage, type InspectOptions, inspectPackage } from "./archive/inspect.js";
export { GZIP_LEVEL, type PackOptions, type PackResult, packPackage } from "./archive/pack.js";
export {
  ArchiveIndex,
  ContentNotKeptError,
  DEFAULT_KEEP_POLICY,
  directoryTree,
  type KeepPolicy,
  type PackageTree,
  type TreeEntryKind,
} from "./archive/package-tree.js";
export {
  detectPackageKind,
  type LoadedAddon,
  type LoadedPackage,
  type LoadedProfile,
  type LoadedStack,
  type LoadOptions,
  loadPackageDir,
  loadStackFile,
  PROFILE_ENV_FILE,
  type ValidatedAddon,
  type ValidatedPackage,
  type ValidatedProfile,
  type ValidatedStack,
  validatePackageTree,
} from "./archive/package-validate.js";
export * from "./errors.js";
export { type CatalogParseOptions, type ParsedCatalog, parseCatalog } from "./format/catalog-parse.js";
export { type EnvEntry, type EnvParseOptions, type ParsedEnvFile, parseEnvFile } from "./format/env-file.js";
export { jsonSchemaFor, renderSchemas, SCHEMA_NAMES, type SchemaName } from "./format/json-schema.js";
export {
  type ParsedDocument,
  type ParseOptions,
  parseAddonManifest,
  parseProfileManifest,
  parseStackLock,
  parseStackManifest,
  parseYamlWithSchema,
} from "./format/manifest-parse.js";
export { assertValidName, isValidName, type NameKind, nameRuleText } from "./format/names.js";
export * from "./format/schema-addon.js";
export * from "./format/schema-catalog.js";
export * from "./format/schema-common.js";
export * from "./format/schema-profile.js";
export * from "./format/schema-stack.js";
export * from "./format/schema-stack-lock.js";
export { type SatisfiesOptions, versionSatisfies } from "./format/version-range.js";
export { type FieldPath, formatFieldPath, type Location } from "./format/yaml-source.js";
