/**
 * The value patterns of the schemas, in a module without zod: the zod schemas
 * (`schema-common.ts`) and the fast catalog checks (`catalog-fast-check.ts`)
 * test values with the same expressions, and a command that only reads a
 * catalog never loads zod. The package-path rule (`unsafeRelativePath`) lives here for the same reason: the
 * archive readers check paths with it without loading the schemas.
 */

/** DNS-1123 label (the length limit is the caller's). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Strict semver `1.2.3[-pre][+build]` (the regex from semver.org), no leading `v`. */
export const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** An environment variable name. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A package version: semver such as 1.2.3, or an opaque revision such as 594a7c9. */
export const PROFILE_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+-]*$/;

/** `sha256:<64 lowercase hex digits>`. */
export const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Longest package name: a DNS-1123 label that is also a Helm release name. */
export const PACKAGE_NAME_MAX = 53;

/** A strict semantic version (no zod: pk3s checks OCI tags with it on its start-up path). */
export function isStrictSemver(v: string): boolean {
  return SEMVER.test(v);
}

const RFC3339 =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/**
 * An RFC 3339 time with a zone (`2026-11-21T00:00:00Z`) on a real calendar day: a subset of what the
 * schemas' `z.iso.datetime({ offset: true })` accepts, for readers that check an index without zod.
 */
export function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (m === null) return false;
  const day = Number(m[3]);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, day)).getUTCDate() === day;
}

/** Why a package-relative path is unsafe, or undefined when it is fine. */
export function unsafeRelativePath(p: string): string | undefined {
  if (p === "") return "empty path";
  if (p.includes("\0")) return "contains a NUL byte";
  if (p.includes("\\")) return "contains a backslash (use '/')";
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p)) return "is absolute";
  if (p.split("/").includes("..")) return "contains '..'";
  return undefined;
}
