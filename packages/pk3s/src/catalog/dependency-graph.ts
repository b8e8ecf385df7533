/**
 * Add-on dependency graph from the catalogs: every package's dependencies
 * (name + semver range) resolved with the same rules as a top-level name,
 * one version per name. Output is a topological order (dependencies first).
 * A cycle or two incompatible ranges is an error naming the packages.
 *
 * One requested package (`addon install`) or several (a stack's add-ons,
 * resolveDependencies). `prefer` keeps given versions (a lock file's) where
 * they still satisfy every range, so refreshing a lock moves only what must.
 */
import { NotFoundError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { versionSatisfies } from "@productive-k3s/pkg-format/version-range";
import semver from "semver";
import type { LoadedCatalog, ResolvedEntry } from "./loaded-catalog.js";
import { candidatesFor, type PackageSpec, parseSpec, resolveEntry, sortVersionsDesc } from "./resolve.js";

export interface Constraint {
  range: string;
  /** "name@version" of the package that asked, or "command line". */
  from: string;
}

export interface DependencyPlan {
  /** The (first) requested package. */
  root: ResolvedEntry;
  /** Every requested package, in the order asked. */
  roots: ResolvedEntry[];
  /** Dependencies first, each requested package after what it needs. */
  order: ResolvedEntry[];
  /** The ranges each dependency was asked for, and by whom. */
  requirements: Record<string, Constraint[]>;
}

const MAX_RESTARTS = 25;

export function entryRef(e: { name: string; version: string }): string {
  return `${e.name}@${e.version}`;
}

function dependenciesOf(e: ResolvedEntry): { name: string; version: string }[] {
  return (e.dependencies ?? []).map((d) => ({ name: d.name, version: d.version ?? "*" }));
}

function describe(constraints: Constraint[]): string {
  return constraints.map((c) => `${c.range} (required by ${c.from})`).join(", ");
}

export interface PlanOptions {
  includePrerelease?: boolean | undefined;
  /** name → version to keep when it still satisfies every range (a lock's pins). */
  prefer?: ReadonlyMap<string, string> | undefined;
}

function pickSatisfyingAll(
  catalogs: readonly LoadedCatalog[],
  name: string,
  constraints: Constraint[],
  includePrerelease: boolean,
  preferred: string | undefined,
): ResolvedEntry {
  const spec: PackageSpec = { name, raw: name };
  let pool: ResolvedEntry[];
  try {
    pool = candidatesFor(catalogs, spec, "addon").entries;
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new NotFoundError(`dependency "${name}" (required by ${constraints.map((c) => c.from).join(", ")}) not found in any catalog`, {
        hint: "add the catalog that provides it (pk3s catalog add) or refresh (pk3s catalog update)",
      });
    }
    throw err;
  }
  const fits = (e: ResolvedEntry): boolean => constraints.every((c) => versionSatisfies(e.version, c.range, { includePrerelease }));
  const kept = preferred === undefined ? undefined : pool.find((e) => e.version === preferred && fits(e));
  const pick = kept ?? sortVersionsDesc(pool).find(fits);
  if (pick !== undefined) return pick;
  const available = sortVersionsDesc(pool)
    .map((e) => e.version)
    .join(", ");
  if (constraints.length > 1) {
    throw new ValidationError(
      `conflicting version requirements for "${name}": ${describe(constraints)}; no version satisfies all of them (available: ${available})`,
      [],
      {
        hint: "upgrade the packages that pin the older range, or install compatible versions explicitly",
      },
    );
  }
  throw new NotFoundError(`no version of dependency "${name}" matches ${describe(constraints)} (available: ${available})`);
}

export function resolveDependencyPlan(
  catalogs: readonly LoadedCatalog[],
  rootSpec: PackageSpec | string,
  options: PlanOptions = {},
): DependencyPlan {
  return resolveDependencies(catalogs, [typeof rootSpec === "string" ? parseSpec(rootSpec) : rootSpec], "command line", options);
}

/** A requested package: its preferred version when that one is in the catalog and matches the range, else resolveEntry's. */
function resolveRoot(catalogs: readonly LoadedCatalog[], spec: PackageSpec, options: PlanOptions): ResolvedEntry {
  const preferred = options.prefer?.get(spec.name);
  if (preferred !== undefined) {
    const kept = candidatesFor(catalogs, spec, "addon").entries.find(
      (e) =>
        e.version === preferred &&
        (spec.range === undefined || versionSatisfies(e.version, spec.range, { includePrerelease: options.includePrerelease === true })),
    );
    if (kept !== undefined) return kept;
  }
  return resolveEntry(catalogs, spec, { type: "addon", includePrerelease: options.includePrerelease });
}

/** The plan for several requested packages at once (`from` names who asked, in messages: "stack base@1.0.0"). */
export function resolveDependencies(
  catalogs: readonly LoadedCatalog[],
  specs: readonly PackageSpec[],
  from: string,
  options: PlanOptions = {},
): DependencyPlan {
  const includePrerelease = options.includePrerelease === true;
  const roots = specs.map((spec) => resolveRoot(catalogs, spec, options));
  const rootNames = new Set(roots.map((r) => r.name));
  const constraints = new Map<string, Constraint[]>(specs.map((spec) => [spec.name, [{ range: spec.range ?? "*", from }]]));
  const pinned = new Map<string, ResolvedEntry>(roots.map((r) => [r.name, r]));

  for (let restart = 0; restart <= MAX_RESTARTS; restart++) {
    const picked = new Map<string, ResolvedEntry>(roots.map((r) => [r.name, r]));
    const queue: ResolvedEntry[] = [...roots];
    let changed = false;
    while (queue.length > 0 && !changed) {
      const current = queue.shift()!;
      for (const dep of dependenciesOf(current)) {
        const list = constraints.get(dep.name) ?? [];
        const from = entryRef(current);
        if (!list.some((c) => c.from === from && c.range === dep.version)) list.push({ range: dep.version, from });
        constraints.set(dep.name, list);
        const existing = picked.get(dep.name);
        if (existing !== undefined) {
          if (
            list.every((c) =>
              versionSatisfies(existing.version, c.range, {
                includePrerelease: includePrerelease || semver.prerelease(existing.version) !== null,
              }),
            )
          )
            continue;
          if (rootNames.has(dep.name)) {
            throw new ValidationError(
              `conflicting version requirements for "${dep.name}": ${describe(list)}, but ${entryRef(existing)} was requested`,
              [],
              {
                hint: `request a version of ${dep.name} that satisfies its dependants`,
              },
            );
          }
          const repick = pickSatisfyingAll(catalogs, dep.name, list, includePrerelease, options.prefer?.get(dep.name));
          pinned.set(dep.name, repick);
          changed = true; // an earlier choice was wrong: walk again with what we learnt
          break;
        }
        const choice = pinned.get(dep.name);
        const next =
          choice !== undefined && list.every((c) => versionSatisfies(choice.version, c.range, { includePrerelease }))
            ? choice
            : pickSatisfyingAll(catalogs, dep.name, list, includePrerelease, options.prefer?.get(dep.name));
        pinned.set(dep.name, next);
        picked.set(dep.name, next);
        queue.push(next);
      }
    }
    if (!changed) {
      return { root: roots[0]!, roots, order: topologicalOrder(roots, picked), requirements: Object.fromEntries(constraints) };
    }
  }
  throw new ValidationError(`could not settle the dependency versions of ${roots.map(entryRef).join(", ")} after ${MAX_RESTARTS} attempts`);
}

/**
 * Dependencies before dependants, the requested packages in the order given (each after what it needs);
 * a cycle is an error naming its members in order. Works on anything with a name and dependencies.
 */
export function topologicalOrder<E extends { name: string; version: string; dependencies?: { name: string }[] | undefined }>(
  roots: E | readonly E[],
  picked: ReadonlyMap<string, E>,
): E[] {
  const order: E[] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (e: E): void => {
    const s = state.get(e.name);
    if (s === "done") return;
    if (s === "visiting") {
      const cycle = [...stack.slice(stack.indexOf(e.name)), e.name].map((n) => entryRef(picked.get(n)!));
      throw new ValidationError(`dependency cycle: ${cycle.join(" -> ")}`, [], {
        hint: "one of these packages must drop its dependency on the other",
      });
    }
    state.set(e.name, "visiting");
    stack.push(e.name);
    for (const dep of e.dependencies ?? []) {
      const next = picked.get(dep.name);
      if (next !== undefined) visit(next);
    }
    stack.pop();
    state.set(e.name, "done");
    order.push(e);
  };
  for (const root of Array.isArray(roots) ? roots : [roots as E]) visit(root);
  return order;
}
