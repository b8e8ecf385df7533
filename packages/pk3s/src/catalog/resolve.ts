/**
 * `[catalog/]name[@range]` → one catalog entry.
 *
 * - A name present in several catalogs comes from the catalog with the
 *   highest priority that has it (it shadows the others, so a public catalog
 *   can never override a private one); `catalog/name` selects explicitly.
 * - Semver versions: the highest version satisfying the range (default `*`);
 *   prereleases only when the range names one or `includePrerelease` is set.
 * - Non-semver versions (git shas such as `594a7c9` in the published
 *   v1alpha1 index) are opaque: matched by an exact `name@594a7c9`, or
 *   picked when they are the package's only versions and no range is given.
 */
import { warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError, UsageError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import semver from "semver";
import { byPriority } from "./catalog-config.js";
import type { LoadedCatalog, ResolvedEntry } from "./loaded-catalog.js";

export type PackageType = "addon" | "profile" | "stack";

/** "an add-on", "a profile", "a stack". */
export function typeWithArticle(type: string): string {
  return type === "addon" ? "an add-on" : `a ${type}`;
}

export interface PackageSpec {
  catalog?: string | undefined;
  name: string;
  range?: string | undefined;
  raw: string;
}

/** `[catalog/]name[@range]` from the command line; both names follow pkg-format's shared rules. */
export function parseSpec(raw: string): PackageSpec {
  const at = raw.indexOf("@");
  const head = at === -1 ? raw : raw.slice(0, at);
  const range = at === -1 ? undefined : raw.slice(at + 1).trim();
  const slash = head.indexOf("/");
  const catalog = slash === -1 ? undefined : head.slice(0, slash);
  const name = slash === -1 ? head : head.slice(slash + 1);
  if (catalog !== undefined) assertValidName("catalog", catalog, "catalog name");
  assertValidName("package", name, "package name");
  if (range === "")
    throw new UsageError(`empty version range in ${quoteForTerminal(raw)}`, {
      hint: "use name, name@range or catalog/name@range, e.g. longhorn@^1.2",
    });
  return { catalog, name, range, raw };
}

export function isSemver(version: string): boolean {
  return semver.valid(version) !== null;
}

/** Newest first: semver versions by precedence, then opaque versions as listed. */
export function sortVersionsDesc<T extends { version: string }>(entries: readonly T[]): T[] {
  const sem = entries.filter((e) => isSemver(e.version)).sort((a, b) => semver.rcompare(a.version, b.version));
  const opaque = entries.filter((e) => !isSemver(e.version));
  return [...sem, ...opaque];
}

export interface ResolveOptions {
  type: PackageType;
  includePrerelease?: boolean | undefined;
  /** For error messages: "required by a@1.0.0". */
  requiredBy?: string | undefined;
}

/** All entries of one package name, from the catalog that provides it (priority or explicit). */
export function candidatesFor(
  catalogs: readonly LoadedCatalog[],
  spec: PackageSpec,
  type: PackageType,
): { catalog: LoadedCatalog; entries: ResolvedEntry[] } {
  const ordered = byPriority(catalogs.map((c) => c.source)).map((s) => catalogs.find((c) => c.source === s)!);
  const pool = spec.catalog === undefined ? ordered : ordered.filter((c) => c.source.name === spec.catalog);
  if (spec.catalog !== undefined && pool.length === 0) {
    throw new NotFoundError(`no catalog named "${spec.catalog}"`, {
      where: spec.catalog,
      hint: `configured: ${catalogs.map((c) => c.source.name).join(", ") || "none"} (pk3s catalog list)`,
    });
  }
  for (const catalog of pool) {
    if (catalog.failure !== undefined) throw unreadable(catalog, pool.length);
    const byName = catalog.entries.filter((e) => e.name === spec.name);
    if (byName.length === 0) continue;
    const ofType = byName.filter((e) => e.type === type);
    if (ofType.length === 0) {
      const other = byName[0]!.type;
      throw new NotFoundError(
        `"${spec.name}" in catalog "${catalog.source.name}" is ${typeWithArticle(other)}, not ${typeWithArticle(type)}`,
        {
          hint: `use pk3s ${other} ... ${spec.name}`,
        },
      );
    }
    return { catalog, entries: ofType };
  }
  const where =
    spec.catalog === undefined
      ? `any configured catalog (${catalogs.map((c) => c.source.name).join(", ") || "none"})`
      : `catalog "${spec.catalog}"`;
  throw new PackageNotFoundError(spec, type, where, pool.map((c) => c.source.url).join(", ") || "no catalog");
}

/** No catalog in reach has the name: `suggestion` (a close name from the catalogs) turns it into a did-you-mean. */
export class PackageNotFoundError extends NotFoundError {
  constructor(
    readonly spec: PackageSpec,
    readonly type: PackageType,
    readonly searched: string,
    where: string,
    suggestion?: string,
  ) {
    const what = type === "addon" ? "add-on" : type;
    super(`${what} "${spec.name}" not found in ${searched}${suggestion === undefined ? "" : ` (Did you mean ${suggestion}?)`}`, {
      where,
      hint:
        suggestion === undefined
          ? "search with `pk3s search`; refresh the catalogs with `pk3s catalog update`"
          : `use ${suggestion}, e.g. pk3s ${type} show ${spec.catalog === undefined ? "" : `${spec.catalog}/`}${suggestion}; or search with \`pk3s search\``,
    });
  }

  withSuggestion(suggestion: string): PackageNotFoundError {
    return new PackageNotFoundError(this.spec, this.type, this.searched, this.where ?? "", suggestion);
  }
}

/**
 * Fail closed: a catalog that could not be read, reached before the name was
 * found, might have supplied it; going on to the next catalog could let a
 * lower-priority one supply a name the unreadable one would have won
 * (dependency confusion). Catalogs that rank above it resolve as usual.
 */
function unreadable(catalog: LoadedCatalog, poolSize: number): unknown {
  if (poolSize > 1) {
    warn(
      `catalog "${catalog.source.name}" could not be read and ranks before the catalogs after it, so resolution stops there ` +
        "(another catalog must not supply a package it would have won); qualify the package with its catalog (catalog/name), " +
        `or remove the failing catalog (pk3s catalog remove ${catalog.source.name})`,
    );
  }
  return catalog.failure;
}

/** Pick the entry for `range` among one package's entries; undefined when none matches. */
export function pickVersion(
  entries: readonly ResolvedEntry[],
  range: string | undefined,
  includePrerelease = false,
): ResolvedEntry | undefined {
  if (range !== undefined) {
    const exact = entries.find(
      (e) => e.version === range || (isSemver(e.version) && semver.valid(range) !== null && semver.eq(e.version, range)),
    );
    if (exact !== undefined) return exact;
  }
  const sem = entries.filter((e) => isSemver(e.version));
  if (sem.length === 0) {
    // Opaque versions: only an exact match, or the sole version when nothing was asked for.
    return range === undefined && entries.length === 1 ? entries[0] : undefined;
  }
  const wanted = range ?? "*";
  if (semver.validRange(wanted) === null) return undefined;
  const best = semver.maxSatisfying(
    sem.map((e) => e.version),
    wanted,
    { includePrerelease },
  );
  return best === null ? undefined : sem.find((e) => e.version === best);
}

export function resolveEntry(catalogs: readonly LoadedCatalog[], spec: PackageSpec, options: ResolveOptions): ResolvedEntry {
  const { catalog, entries } = candidatesFor(catalogs, spec, options.type);
  if (spec.range !== undefined && semver.validRange(spec.range) === null && !entries.some((e) => e.version === spec.range)) {
    const opaque = entries.filter((e) => !isSemver(e.version)).map((e) => e.version);
    if (opaque.length === 0)
      throw new UsageError(`"${spec.range}" is not a valid semver range (in ${spec.raw})`, { hint: "e.g. 1.2.3, ^1.2, >=1.0 <2" });
  }
  const picked = pickVersion(entries, spec.range, options.includePrerelease === true);
  if (picked === undefined) {
    const available = sortVersionsDesc(entries).map((e) => e.version);
    const onlyPre = available.length > 0 && available.every((v) => isSemver(v) && semver.prerelease(v) !== null);
    const opaque = available.some((v) => !isSemver(v));
    const by = options.requiredBy === undefined ? "" : ` (required by ${options.requiredBy})`;
    throw new NotFoundError(
      `no version of "${spec.name}" in catalog "${catalog.source.name}" matches "${spec.range ?? "*"}"${by}; available: ${available.join(", ")}`,
      {
        hint: onlyPre
          ? "only prereleases exist: ask for one explicitly (name@1.0.0-rc.1) or pass --include-prerelease"
          : opaque
            ? "non-semver versions (git revisions) are only selected by their exact value: name@<version>"
            : "pick one of the available versions",
      },
    );
  }
  return picked;
}
