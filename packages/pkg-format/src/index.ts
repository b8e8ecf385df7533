/**
 * Public API of @productive-k3s/pkg-format. Every module is also importable
 * as `@productive-k3s/pkg-format/<module>`.
 */

export type { PackageSource } from "./archive-input.js";
export { type ArchiveFile, MANIFEST_FILES, type PackageKind } from "./archive-scan.js";
export { type CatalogParseOptions, type ParsedCatalog, parseCatalog } from "./catalog-parse.js";
export { CHECKSUMS_FILE, formatChecksums, parseChecksums } from "./checksums.js";
export {
  createHashingStream,
  DIGEST_PATTERN,
  formatDigest,
  HashingStream,
  type Sha256Digest,
  sha256File,
  sha256Hex,
} from "./digest.js";
export { type EnvEntry, type EnvParseOptions, type ParsedEnvFile, parseEnvFile } from "./env-file.js";
export * from "./errors.js";
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
} from "./extract.js";
export { DEFAULT_LIMITS, type ExtractLimits, resolveLimits } from "./extract-limits.js";
export { DEFAULT_IGNORES, IGNORE_FILE, IgnoreRules } from "./ignore-rules.js";
export { type InspectedPackage, type InspectOptions, inspectPackage } from "./inspect.js";
export { jsonSchemaFor, renderSchemas, SCHEMA_NAMES, type SchemaName } from "./json-schema.js";
export {
  type ParsedDocument,
  type ParseOptions,
  parseAddonManifest,
  parseProfileManifest,
  parseYamlWithSchema,
} from "./manifest-parse.js";
export { GZIP_LEVEL, type PackOptions, type PackResult, packPackage } from "./pack.js";
export {
  ArchiveIndex,
  ContentNotKeptError,
  DEFAULT_KEEP_POLICY,
  directoryTree,
  type KeepPolicy,
  type PackageTree,
  type TreeEntryKind,
} from "./package-tree.js";
export {
  detectPackageKind,
  type LoadedAddon,
  type LoadedPackage,
  type LoadedProfile,
  type LoadOptions,
  loadPackageDir,
  PROFILE_ENV_FILE,
  type ValidatedAddon,
  type ValidatedPackage,
  type ValidatedProfile,
  validatePackageTree,
} from "./package-validate.js";
export * from "./schema-addon.js";
export * from "./schema-catalog.js";
export * from "./schema-common.js";
export * from "./schema-profile.js";
export { type FieldPath, formatFieldPath, type Location } from "./yaml-source.js";
