/**
 * Which packages a stack installs, in install order (dependencies first):
 * from its lock when the lock matches, else resolved from the catalogs
 * (dependency-graph.ts, every listed add-on a requested package) with the
 * lock's pins kept where they still fit. A bundled add-on (`source:` inside
 * the stack) comes from the stack itself and wins over every catalog.
 *
 * `--frozen`: a missing or stale lock is exit 4, nothing resolved. Without
 * it, a stale lock is refreshed (and written back when the caller asks,
 * like `npm install`); a missing one is not created (a lock is opt-in:
 * `pk3s lock`).
 */
import { pathToFileURL } from "node:url";
import { log, warn } from "@productive-k3s/pkg-format/cli";
import { IntegrityError, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import type { StackAddon } from "@productive-k3s/pkg-format/schema-stack";
import type { StackLockPackage } from "@productive-k3s/pkg-format/schema-stack-lock";
import { versionSatisfies } from "@productive-k3s/pkg-format/version-range";
import { entryRef, resolveDependencies, topologicalOrder } from "../catalog/dependency-graph.js";
import type { LoadedCatalog, ResolvedEntry } from "../catalog/loaded-catalog.js";
import type { PackageSpec } from "../catalog/resolve.js";
import type { FetchFlags } from "../operations/fetch-entry.js";
import type { Session } from "../operations/session.js";
import { type OpenedStack, stackPath } from "./opened-stack.js";
import {
  describeProblems,
  lockChanges,
  lockDigest,
  lockFileFor,
  lockProblems,
  type ReadLock,
  readLock,
  renderLock,
  staleLockError,
} from "./stack-lock.js";

/** Values, --set lines and namespace the stack gives one add-on (values files absolute). */
export interface AddonOptions {
  values: string[];
  set: string[];
  namespace?: string | undefined;
}

export interface StackPackage {
  entry: ResolvedEntry;
  /** Listed in the stack (else a dependency only). */
  listed: boolean;
  /** A bundled add-on: its package inside the stack. */
  source?: string | undefined;
  options: AddonOptions;
  /** The key id the lock records for it (a lock in use): its signature must still be by that key. */
  lockedKeyId?: string | undefined;
  /** The key id whose signature verified it in this run, for the lock (undefined: unsigned catalog). */
  signingKeyId?: string | undefined;
}

export interface StackPackages {
  /** Install order: dependencies first. */
  packages: StackPackage[];
  lock: {
    /** `<stack file>.lock` (undefined for a catalog stack). */
    file: string | undefined;
    /** The lock on disk, if any. */
    current: ReadLock | undefined;
    /** used: the packages are the lock's; resolved: from the catalogs (no lock, a stale one, or --update). */
    status: "used" | "resolved";
  };
}

export interface ResolveStackOptions extends FetchFlags {
  /** Fail (exit 4) unless the lock exists and matches. */
  frozen?: boolean | undefined;
  /** Resolve again: all add-ons (true) or these names, keeping the other pins. */
  update?: true | readonly string[] | undefined;
}

const BUNDLED_CATALOG = "(bundled)";

function optionsOf(stack: OpenedStack, addon: StackAddon | undefined): AddonOptions {
  if (addon === undefined) return { values: [], set: [] };
  return { values: addon.values.map((v) => stackPath(stack, v)), set: [...addon.set], namespace: addon.namespace };
}

/** The stack's bundled add-ons as catalog entries, read and checked from the packages inside the stack. */
async function bundledEntries(stack: OpenedStack): Promise<ResolvedEntry[]> {
  const out: ResolvedEntry[] = [];
  const { inspectPackage } = await import("@productive-k3s/pkg-format/inspect");
  for (const a of stack.manifest.spec.addons) {
    if (a.source === undefined) continue;
    const file = stackPath(stack, a.source);
    const p = await inspectPackage(file, { label: `${stack.label}: ${a.source}` });
    if (p.kind !== "addon" || p.name !== a.name) {
      throw new IntegrityError(
        "entry-mismatch",
        `${stack.label}: ${a.source} holds ${p.kind} ${p.name}@${p.version}, not add-on ${a.name}`,
        {
          where: file,
        },
      );
    }
    if (a.version !== undefined && !versionSatisfies(p.version, a.version)) {
      throw new ValidationError(`${stack.label}: ${a.source} is ${a.name}@${p.version}, but the stack asks for ${a.version}`, [], {
        where: file,
      });
    }
    out.push({
      name: p.name,
      version: p.version,
      type: "addon",
      url: a.source,
      digest: p.digest,
      size: p.size,
      dependencies: p.manifest.spec.dependencies,
      catalog: BUNDLED_CATALOG,
      resolvedUrl: pathToFileURL(file).href,
    });
  }
  return out;
}

/** A lock entry as the catalog entry it was resolved from (fetched by digest: cache first, then its URL). */
function entryFromLock(stack: OpenedStack, p: StackLockPackage): ResolvedEntry {
  const url = p.source === undefined ? (p.url as string) : pathToFileURL(stackPath(stack, p.source)).href;
  return {
    name: p.name,
    version: p.version,
    type: "addon",
    url,
    digest: p.digest,
    ...(p.size === undefined ? {} : { size: p.size }),
    dependencies: p.dependencies ?? [],
    catalog: p.catalog ?? BUNDLED_CATALOG,
    resolvedUrl: url,
  };
}

/** How results name a package: name, version, catalog, digest, and whether the stack lists it. */
export function packageRef(p: StackPackage): { name: string; version: string; catalog: string; digest: string; listed: boolean } {
  return { name: p.entry.name, version: p.entry.version, catalog: p.entry.catalog, digest: p.entry.digest ?? "", listed: p.listed };
}

export function lockEntryFor(pkg: StackPackage): StackLockPackage {
  const e = pkg.entry;
  if (e.digest === undefined) throw new Error(`unreachable: ${entryRef(e)} is locked without a digest`);
  return {
    name: e.name,
    type: "addon",
    version: e.version,
    ...(pkg.source === undefined ? { catalog: e.catalog, url: e.resolvedUrl } : { source: pkg.source }),
    digest: e.digest,
    ...(e.size === undefined ? {} : { size: e.size }),
    ...(pkg.signingKeyId === undefined ? {} : { signingKeyId: pkg.signingKeyId }),
    ...(e.dependencies === undefined || e.dependencies.length === 0
      ? {}
      : { dependencies: e.dependencies.map((d) => ({ name: d.name, version: d.version ?? "*" })) }),
  };
}

function inOrder(stack: OpenedStack, entries: readonly ResolvedEntry[]): StackPackage[] {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const listed = new Map(stack.manifest.spec.addons.map((a) => [a.name, a]));
  const roots = stack.manifest.spec.addons.map((a) => byName.get(a.name)).filter((e): e is ResolvedEntry => e !== undefined);
  return topologicalOrder(roots, byName).map((entry) => {
    const addon = listed.get(entry.name);
    return { entry, listed: addon !== undefined, source: addon?.source, options: optionsOf(stack, addon) };
  });
}

/** The catalogs (and the stack's bundled packages, first) that the stack's names reach. */
async function catalogsFor(session: Session, stack: OpenedStack, bundled: readonly ResolvedEntry[]): Promise<LoadedCatalog[]> {
  const names = stack.manifest.spec.addons.filter((a) => a.source === undefined).map((a) => a.name);
  for (const b of bundled) for (const d of b.dependencies ?? []) names.push(d.name);
  const catalogs = names.length === 0 ? [] : await session.catalogsReaching(names);
  if (bundled.length === 0) return catalogs;
  const top = Math.max(0, ...catalogs.map((c) => c.source.priority)) + 1;
  const own: LoadedCatalog = {
    source: { name: BUNDLED_CATALOG, url: pathToFileURL(stack.dir).href, priority: top },
    entries: [...bundled],
    warnings: [],
    origin: "file",
  };
  return [own, ...catalogs];
}

export async function resolveStackPackages(session: Session, stack: OpenedStack, options: ResolveStackOptions): Promise<StackPackages> {
  const bundled = await bundledEntries(stack);
  const bundledDigests = new Map(bundled.map((b) => [b.url, b.digest ?? ""]));
  const lockFile = stack.file === undefined ? undefined : lockFileFor(stack.file);
  if (options.frozen === true && lockFile === undefined) {
    throw new UsageError("--frozen needs a stack file: a lock sits beside its stack file", {
      hint: "pull the stack into a folder, lock it there (pk3s lock <folder>/stack.yaml) and install that",
    });
  }
  const current: ReadLock | undefined = lockFile === undefined ? undefined : await readLock(lockFile);
  const problems = current === undefined ? [] : lockProblems(current.lock, stack.manifest, bundledDigests);
  if (options.frozen === true) {
    if (current === undefined) {
      throw new ValidationError(`${lockFile} does not exist (--frozen installs only from a lock)`, [], {
        where: lockFile,
        hint: `create it with: pk3s lock ${stack.label} (then commit it)`,
      });
    }
    if (problems.length > 0) throw staleLockError(current.file, problems, stack.label);
  }
  if (current !== undefined && problems.length === 0 && options.update === undefined) {
    const entries = current.lock.packages.map((p) => entryFromLock(stack, p));
    const keyIds = new Map(current.lock.packages.map((p) => [p.name, p.signingKeyId]));
    const packages = inOrder(stack, entries).map((p) => ({ ...p, lockedKeyId: keyIds.get(p.entry.name) }));
    return { packages, lock: { file: lockFile, current, status: "used" } };
  }
  if (current !== undefined && problems.length > 0) {
    warn(`the lock no longer matches the stack; resolving again:\n${describeProblems(problems, current.file)}`);
  }
  const catalogs = await catalogsFor(session, stack, bundled);
  const fresh = options.update === true ? new Set(current?.lock.packages.map((p) => p.name)) : new Set(options.update ?? []);
  const prefer = new Map((current?.lock.packages ?? []).filter((p) => !fresh.has(p.name)).map((p) => [p.name, p.version]));
  const specs: PackageSpec[] = stack.manifest.spec.addons.map((a) => ({ name: a.name, range: a.version, raw: a.name }));
  const from = `stack ${stack.manifest.metadata.name}@${stack.manifest.metadata.version}`;
  const plan = resolveDependencies(catalogs, specs, from, { includePrerelease: options.includePrerelease, prefer });
  log(`Resolved ${plan.order.map((e) => `${entryRef(e)} [${e.catalog}]`).join(", ")}`);
  return { packages: inOrder(stack, plan.order), lock: { file: lockFile, current, status: "resolved" } };
}

/**
 * Write the lock for `packages` when it differs from the one on disk (every entry must have its digest by now:
 * a fetched entry carries the digest of the bytes that were verified). Returns its digest and what changed.
 */
export async function writeStackLock(
  stack: OpenedStack,
  packages: readonly StackPackage[],
  lock: StackPackages["lock"],
): Promise<{ file: string; digest: string; changes: string[]; written: boolean }> {
  if (lock.file === undefined) throw new Error("unreachable: only a stack file has a lock");
  const locked = packages.map(lockEntryFor);
  const text = renderLock(stack.manifest, locked);
  const digest = lockDigest(text);
  const changes = lockChanges(lock.current?.lock.packages ?? [], locked);
  if (lock.current?.digest === digest) return { file: lock.file, digest, changes, written: false };
  const { writeFileAtomic } = await import("@productive-k3s/pkg-format/atomic");
  await writeFileAtomic(lock.file, text, { mode: 0o644 });
  return { file: lock.file, digest, changes, written: true };
}

/**
 * Verified bytes of every package, by name: the content-addressed cache first, then the entry's URL (a lock's
 * entry is fetched by its digest the same way). A package from a signed catalog has its signature verified each
 * time, so the lock can record the key that signed it, and a lock that records one refuses any other. An entry without a digest (`--allow-unverified`) takes the
 * digest of the bytes fetched, so a lock written afterwards pins exactly them.
 */
export async function fetchStackPackages(
  session: Session,
  packages: readonly StackPackage[],
  flags: FetchFlags,
): Promise<Map<string, string>> {
  const { downloadEntry } = await import("../operations/fetch-entry.js");
  const files = new Map<string, string>();
  for (const p of packages) {
    // A signed catalog's package has its signature checked even from the cache: the lock records (or pins) its key.
    const fetched = await downloadEntry(session, p.entry, flags, { always: true, keyId: p.lockedKeyId });
    p.signingKeyId = fetched.signingKeyId;
    if (p.entry.digest === undefined || p.entry.digest === "") p.entry.digest = fetched.digest;
    if (p.entry.size === undefined) p.entry.size = fetched.size;
    files.set(p.entry.name, fetched.file);
  }
  return files;
}
