/**
 * OCI references as pk3s spells them: `oci://HOST[:PORT]/REPO[/…]`, optionally with `:TAG` and/or
 * `@sha256:<hex>` (the digest wins when both are given, as with docker). The grammar is distribution's
 * (`reference` package): lowercase path components joined by `.`, `_`, `__` or dashes; tags of at most 128
 * word characters, dots and dashes; sha256 digests only. A package version becomes its tag with `+`
 * (semver build metadata, not allowed in tags) written as `_`, as Helm does.
 */
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { isStrictSemver } from "@productive-k3s/pkg-format/schema-common";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";

export interface OciRepositoryRef {
  /** `host[:port]`, lowercase, as the registry is addressed and credentials are keyed. */
  registry: string;
  /** `repo/sub/name`. */
  repository: string;
}

export interface OciReference extends OciRepositoryRef {
  tag?: string | undefined;
  /** `sha256:<hex>`. */
  digest?: string | undefined;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** hostname or IPv4 with an optional port, or a bracketed IPv6 with an optional port. */
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;
const MAX_REPOSITORY = 255;

const EXAMPLE = "oci://registry.example.com/team/addons/longhorn:1.2.0";

export function isOciUrl(value: string): boolean {
  return /^oci:\/\//i.test(value);
}

function bad(raw: string, what: string): UsageError {
  return new UsageError(`invalid OCI reference ${quoteForTerminal(raw)}: ${what}`, { where: raw, hint: `e.g. ${EXAMPLE}` });
}

function parseParts(raw: string): { registry: string; repository: string; tag?: string; digest?: string } {
  if (!isOciUrl(raw)) throw bad(raw, "it must start with oci://");
  const rest = raw.slice("oci://".length);
  const slash = rest.indexOf("/");
  if (slash <= 0) throw bad(raw, "expected oci://HOST/REPOSITORY");
  const registry = rest.slice(0, slash).toLowerCase();
  if (!HOST.test(registry)) throw bad(raw, `"${rest.slice(0, slash)}" is not a registry host[:port]`);
  let path = rest.slice(slash + 1);
  let digest: string | undefined;
  const at = path.indexOf("@");
  if (at !== -1) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(raw, `"${digest}" is not a sha256:<64 lowercase hex> digest`);
  }
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon !== -1) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw bad(raw, `"${tag}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  const repository = path.replace(/\/+$/, "");
  if (repository === "") throw bad(raw, "the repository is missing");
  if (repository.length > MAX_REPOSITORY) throw bad(raw, `the repository is longer than ${MAX_REPOSITORY} characters`);
  for (const component of repository.split("/")) {
    if (!COMPONENT.test(component)) {
      throw bad(raw, `"${component}" is not a valid repository path component (lowercase letters, digits, and . _ - between them)`);
    }
  }
  return { registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** A package reference: it must name a tag or a digest. */
export function parseOciReference(raw: string): OciReference {
  const parts = parseParts(raw.trim());
  if (parts.tag === undefined && parts.digest === undefined) {
    throw bad(raw, "it names no version: add :VERSION or @sha256:DIGEST");
  }
  return parts;
}

/** A repository (a push destination, or a whole catalog): no tag, no digest. */
export function parseOciRepository(raw: string, role: string): OciRepositoryRef {
  const parts = parseParts(raw.trim());
  if (parts.tag !== undefined || parts.digest !== undefined) {
    throw new UsageError(`${role} ${quoteForTerminal(raw)} must be a repository, without :TAG or @DIGEST`, {
      where: raw,
      hint: "pk3s uses the package's name and version: e.g. oci://registry.example.com/team/addons",
    });
  }
  return { registry: parts.registry, repository: parts.repository };
}

export function repositoryUrl(ref: OciRepositoryRef): string {
  return `oci://${ref.registry}/${ref.repository}`;
}

/** `oci://host/repo@sha256:…` when a digest is known, else `oci://host/repo:tag`. */
export function formatReference(ref: OciReference): string {
  const base = repositoryUrl(ref);
  if (ref.digest !== undefined) return `${base}@${ref.digest}`;
  return ref.tag === undefined ? base : `${base}:${ref.tag}`;
}

/** The tag a version is published under (`1.0.0+build.1` → `1.0.0_build.1`). */
export function versionTag(version: string): string {
  return version.replace(/\+/g, "_");
}

/**
 * The semver version a tag stands for, or undefined for tags that are not package versions. Strict semver,
 * as package manifests are (semver.valid() drops build metadata, so it cannot say whether a tag is exact).
 */
export function tagVersion(tag: string): string | undefined {
  const candidate = tag.replace(/_/g, "+");
  return isStrictSemver(candidate) ? candidate : undefined;
}

/** A registry as the user names it for login and settings: `host[:port]` (an `oci://` prefix is accepted). */
export function parseRegistryHost(raw: string): string {
  const host = raw
    .trim()
    .replace(/^oci:\/\//i, "")
    .replace(/\/+$/, "")
    .toLowerCase();
  if (!HOST.test(host)) {
    throw new UsageError(`invalid registry ${quoteForTerminal(raw)}: expected HOST or HOST:PORT`, {
      where: raw,
      hint: "e.g. registry.example.com or 127.0.0.1:5000",
    });
  }
  return host;
}

/** True for hosts whose traffic never leaves the machine: plain HTTP is allowed to them. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(?:\.\d{1,3}){3}$/.test(host);
}
