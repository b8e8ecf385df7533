/**
 * Catalog entries checked without zod: a command that reads a catalog of
 * well-formed entries (nearly always all of them) neither loads zod (~30 ms of
 * start-up) nor runs it per entry.
 *
 * The zod schemas (`schema-catalog.ts`) stay the single source of truth: these
 * checks accept a strict subset of what they accept, and return exactly what
 * zod would return (defaults filled in, keys in schema order, dependencies in
 * their `{name, version}` form). An entry they do not accept, however harmless
 * (an unknown field, a value they do not know), is not rejected but handed to
 * zod, which decides and words the problem. A test holds the two together on
 * generated and mutated entries (`catalog-fast-check.test.ts`).
 */
import semver from "semver";
import { DNS_LABEL, ENV_NAME, isRfc3339, PACKAGE_NAME_MAX, PROFILE_VERSION, SHA256_DIGEST } from "./patterns.js";
import type { CatalogEntry } from "./schema-catalog.js";

type Entry = CatalogEntry;
type Obj = Record<string, unknown>;

/** The package types of a catalog entry (v1 `type`, v1alpha1 `kind`: the published `kind: stack` entries are stacks). */
export const PACKAGE_TYPES: ReadonlySet<string> = new Set<CatalogEntry["type"]>(["addon", "profile", "stack"]);
const INPUT_SOURCES: ReadonlySet<string> = new Set(["package-default", "local-override", "either"]);
/** v1alpha1 has no engine field; the published index tags profiles with it. */
export const ENGINE_TAGS: ReadonlySet<string> = new Set(["opentofu", "ansible", "script", "shell"]);

const V1_KEYS: ReadonlySet<string> = new Set([
  "name",
  "version",
  "type",
  "url",
  "digest",
  "size",
  "description",
  "category",
  "deprecated",
  "dependencies",
  "compatibility",
  "inputs",
  "engine",
  "maintainers",
  "license",
  "homepage",
  "source",
  "created",
]);
const ALPHA_KEYS: ReadonlySet<string> = new Set([
  "id",
  "name",
  "kind",
  "visibility",
  "category",
  "description",
  "version",
  "sourceRepository",
  "artifact",
  "install",
  "tags",
  "deprecated",
]);

/** Not a fast-path value: the entry goes to zod. */
class Slow extends Error {}
const SLOW = new Slow();
const slow = (): never => {
  throw SLOW;
};

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function object(v: unknown, keys: ReadonlySet<string>): Obj {
  if (!isObj(v)) return slow();
  for (const k in v) if (!keys.has(k)) slow();
  return v;
}

function string(v: unknown): string {
  return typeof v === "string" ? v : slow();
}

function optionalString(v: unknown): string | undefined {
  return v === undefined ? undefined : string(v);
}

function nonEmpty(v: unknown): string {
  const s = string(v);
  return s.length > 0 ? s : slow();
}

function optionalNonEmpty(v: unknown): string | undefined {
  return v === undefined ? undefined : nonEmpty(v);
}

/** `created`: an RFC 3339 time (every index `catalog index` writes has one per entry). */
function optionalTimestamp(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const s = string(v);
  return isRfc3339(s) ? s : slow();
}

function optionalBoolean(v: unknown): boolean | undefined {
  return v === undefined || typeof v === "boolean" ? v : slow();
}

function matching(v: unknown, pattern: RegExp): string {
  const s = string(v);
  return pattern.test(s) ? s : slow();
}

function packageName(v: unknown): string {
  const s = string(v);
  return s.length <= PACKAGE_NAME_MAX && DNS_LABEL.test(s) ? s : slow();
}

function optionalSize(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : slow();
}

function array<T>(v: unknown, item: (x: unknown) => T): T[] {
  return Array.isArray(v) ? v.map(item) : slow();
}

/** Ranges and loose versions repeat across a catalog: each distinct string is checked once. */
const rangeOk = new Map<string, boolean>();
function semverRange(v: unknown): string {
  const s = string(v);
  let ok = rangeOk.get(s);
  if (ok === undefined) {
    ok = semver.validRange(s) !== null;
    rangeOk.set(s, ok);
  }
  return ok ? s : slow();
}

const looseOk = new Map<string, boolean>();
function optionalLooseVersion(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const s = string(v);
  let ok = looseOk.get(s);
  if (ok === undefined) {
    ok = semver.coerce(s) !== null;
    looseOk.set(s, ok);
  }
  return ok ? s : slow();
}

/** Assign the defined values in the given order (zod's output order is the schema's). */
function pick(pairs: [string, unknown][]): Obj {
  const out: Obj = {};
  for (const [k, v] of pairs) if (v !== undefined) out[k] = v;
  return out;
}

const DEPENDENCY_KEYS: ReadonlySet<string> = new Set(["name", "version"]);
function dependency(v: unknown): { name: string; version: string } {
  if (typeof v === "string") return { name: packageName(v), version: "*" };
  const d = object(v, DEPENDENCY_KEYS);
  return { name: packageName(d.name), version: d.version === undefined ? "*" : semverRange(d.version) };
}

const COMPAT_KEYS: ReadonlySet<string> = new Set(["architectures", "k3s", "kubernetes", "requires"]);
const K3S_KEYS: ReadonlySet<string> = new Set(["minVersion", "maxVersion"]);
const KUBERNETES_KEYS: ReadonlySet<string> = new Set(["distros"]);
const REQUIRES_KEYS: ReadonlySet<string> = new Set(["core"]);
const CORE_KEYS: ReadonlySet<string> = new Set(["minVersion", "maxVersionExclusive"]);

function optionalNonEmptyStrings(v: unknown): string[] | undefined {
  return v === undefined ? undefined : array(v, nonEmpty);
}

function compatibility(v: unknown): Obj {
  const c = object(v, COMPAT_KEYS);
  const k3s = c.k3s === undefined ? undefined : object(c.k3s, K3S_KEYS);
  const kubernetes = c.kubernetes === undefined ? undefined : object(c.kubernetes, KUBERNETES_KEYS);
  const requires = c.requires === undefined ? undefined : object(c.requires, REQUIRES_KEYS);
  const core = requires?.core === undefined ? undefined : object(requires.core, CORE_KEYS);
  return pick([
    ["architectures", optionalNonEmptyStrings(c.architectures)],
    [
      "k3s",
      k3s &&
        pick([
          ["minVersion", optionalLooseVersion(k3s.minVersion)],
          ["maxVersion", optionalLooseVersion(k3s.maxVersion)],
        ]),
    ],
    ["kubernetes", kubernetes && pick([["distros", optionalNonEmptyStrings(kubernetes.distros)]])],
    [
      "requires",
      requires &&
        pick([
          [
            "core",
            core &&
              pick([
                ["minVersion", optionalLooseVersion(core.minVersion)],
                ["maxVersionExclusive", optionalLooseVersion(core.maxVersionExclusive)],
              ]),
          ],
        ]),
    ],
  ]);
}

const INPUT_KEYS: ReadonlySet<string> = new Set(["name", "required", "sensitive", "source", "description"]);
function profileInput(v: unknown): Obj {
  const i = object(v, INPUT_KEYS);
  const source = i.source === undefined ? "either" : string(i.source);
  if (!INPUT_SOURCES.has(source)) slow();
  return pick([
    ["name", matching(i.name, ENV_NAME)],
    ["required", optionalBoolean(i.required) ?? false],
    ["sensitive", optionalBoolean(i.sensitive) ?? false],
    ["source", source],
    ["description", optionalString(i.description)],
  ]);
}

function v1Entry(v: unknown): Entry {
  const e = object(v, V1_KEYS);
  const type = string(e.type);
  if (!PACKAGE_TYPES.has(type)) slow();
  return pick([
    ["name", packageName(e.name)],
    ["version", matching(e.version, PROFILE_VERSION)],
    ["type", type],
    ["url", nonEmpty(e.url)],
    ["digest", e.digest === undefined ? undefined : matching(e.digest, SHA256_DIGEST)],
    ["size", optionalSize(e.size)],
    ["description", optionalString(e.description)],
    ["category", optionalString(e.category)],
    ["deprecated", optionalBoolean(e.deprecated)],
    ["dependencies", e.dependencies === undefined ? undefined : array(e.dependencies, dependency)],
    ["compatibility", e.compatibility === undefined ? undefined : compatibility(e.compatibility)],
    ["inputs", e.inputs === undefined ? undefined : array(e.inputs, profileInput)],
    ["engine", optionalString(e.engine)],
    ["maintainers", optionalNonEmptyStrings(e.maintainers)],
    ["license", optionalNonEmpty(e.license)],
    ["homepage", optionalNonEmpty(e.homepage)],
    ["source", optionalNonEmpty(e.source)],
    ["created", optionalTimestamp(e.created)],
  ]) as Entry;
}

/** The fields of a v1alpha1 entry that `alphaEntryToV1` reads, as zod returns them. */
export interface AlphaEntryView {
  name: string;
  kind: string;
  version: string;
  description?: string | undefined;
  category?: string | undefined;
  deprecated?: boolean | undefined;
  artifact: { url: string; digest?: string | undefined; size?: number | undefined };
  install?: { inputs?: CatalogEntry["inputs"] } | undefined;
  tags?: string[] | undefined;
}

/** A v1alpha1 entry (already valid, of a package kind) in the v1 shape. */
export function alphaEntryToV1(e: AlphaEntryView): CatalogEntry {
  const engine = e.kind === "profile" ? e.tags?.find((t) => ENGINE_TAGS.has(t)) : undefined;
  return {
    name: e.name,
    version: e.version,
    type: e.kind as CatalogEntry["type"],
    url: e.artifact.url,
    ...(e.artifact.digest === undefined ? {} : { digest: e.artifact.digest }),
    ...(e.artifact.size === undefined ? {} : { size: e.artifact.size }),
    ...(e.description === undefined ? {} : { description: e.description }),
    ...(e.category === undefined ? {} : { category: e.category }),
    ...(e.deprecated === undefined ? {} : { deprecated: e.deprecated }),
    ...(e.install?.inputs === undefined ? {} : { inputs: e.install.inputs }),
    ...(engine === undefined ? {} : { engine }),
  };
}

const ARTIFACT_KEYS: ReadonlySet<string> = new Set(["type", "url", "digest", "size"]);
const INSTALL_KEYS: ReadonlySet<string> = new Set(["requiresLocalOverrides", "inputs"]);

function alphaEntry(v: unknown): Entry {
  const e = object(v, ALPHA_KEYS);
  const kind = nonEmpty(e.kind);
  // Other kinds are left out with a located warning: zod's path words it.
  if (!PACKAGE_TYPES.has(kind)) slow();
  for (const k of ["id", "visibility", "category", "description", "sourceRepository"]) optionalString(e[k]);
  const artifact = object(e.artifact, ARTIFACT_KEYS);
  if (artifact.type !== "tgz") slow();
  const install = e.install === undefined ? undefined : object(e.install, INSTALL_KEYS);
  optionalBoolean(install?.requiresLocalOverrides);
  return alphaEntryToV1({
    name: packageName(e.name),
    kind,
    version: matching(e.version, PROFILE_VERSION),
    description: optionalString(e.description),
    category: optionalString(e.category),
    deprecated: optionalBoolean(e.deprecated),
    artifact: {
      url: nonEmpty(artifact.url),
      digest: artifact.digest === undefined ? undefined : matching(artifact.digest, SHA256_DIGEST),
      size: optionalSize(artifact.size),
    },
    install: install === undefined ? undefined : { inputs: install.inputs === undefined ? undefined : array(install.inputs, profileInput) },
    tags: e.tags === undefined ? undefined : array(e.tags, string),
  } as AlphaEntryView);
}

function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err === SLOW) return undefined;
    throw err;
  }
}

/** The entry as zod would return it, or undefined when zod must look at it (anything unusual or wrong). */
export function fastV1Entry(value: unknown): CatalogEntry | undefined {
  return attempt(() => v1Entry(value));
}

/** A v1alpha1 entry of a package kind in the v1 shape, or undefined when zod must look at it. */
export function fastAlphaEntry(value: unknown): CatalogEntry | undefined {
  return attempt(() => alphaEntry(value));
}
