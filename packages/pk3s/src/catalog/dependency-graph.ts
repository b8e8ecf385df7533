/**
 * Add-on dependency graph from the catalogs: every package's dependencies
 * (name + semver range) resolved with the same rules as a top-level name,
 * one version per name. Output is a topological order (dependencies first).
 * A cycle or two incompatible ranges is an error naming the packages.
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
  root: ResolvedEntry;
  /** Dependencies first, the requested package last. */
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

function pickSatisfyingAll(
  catalogs: readonly LoadedCatalog[],
  name: string,
  constraints: Constraint[],
  includePrerelease: boolean,
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
  const pick = sortVersionsDesc(pool).find((e) => constraints.every((c) => versionSatisfies(e.version, c.range, { includePrerelease })));
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
  options: { includePrerelease?: boolean } = {},
): DependencyPlan {
  const spec = typeof rootSpec === "string" ? parseSpec(rootSpec) : rootSpec;
  const includePrerelease = options.includePrerelease === true;
  const root = resolveEntry(catalogs, spec, { type: "addon", includePrerelease });
  const constraints = new Map<string, Constraint[]>([[root.name, [{ range: spec.range ?? "*", from: "command line" }]]]);
  const pinned = new Map<string, ResolvedEntry>([[root.name, root]]);

  for (let restart = 0; restart <= MAX_RESTARTS; restart++) {
    const picked = new Map<string, ResolvedEntry>([[root.name, root]]);
    const queue: ResolvedEntry[] = [root];
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
          if (dep.name === root.name) {
            throw new ValidationError(
              `conflicting version requirements for "${root.name}": ${describe(list)}, but ${entryRef(root)} was requested`,
              [],
              {
                hint: `request a version of ${root.name} that satisfies its dependants`,
              },
            );
          }
          const repick = pickSatisfyingAll(catalogs, dep.name, list, includePrerelease);
          pinned.set(dep.name, repick);
          changed = true; // an earlier choice was wrong: walk again with what we learnt
          break;
        }
        const choice = pinned.get(dep.name);
        const next =
          choice !== undefined && list.every((c) => versionSatisfies(choice.version, c.range, { includePrerelease }))
            ? choice
            : pickSatisfyingAll(catalogs, dep.name, list, includePrerelease);
        pinned.set(dep.name, next);
        picked.set(dep.name, next);
        queue.push(next);
      }
    }
    if (!changed) return { root, order: topologicalOrder(root, picked), requirements: Object.fromEntries(constraints) };
  }
  throw new ValidationError(`could not settle the dependency versions of ${entryRef(root)} after ${MAX_RESTARTS} attempts`);
}

/** Dependencies before dependants; a cycle is an error naming its members in order. */
export function topologicalOrder(root: ResolvedEntry, picked: ReadonlyMap<string, ResolvedEntry>): ResolvedEntry[] {
  const order: ResolvedEntry[] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (e: ResolvedEntry): void => {
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
    for (const dep of dependenciesOf(e)) {
      const next = picked.get(dep.name);
      if (next !== undefined) visit(next);
    }
    stack.pop();
    state.set(e.name, "done");
    order.push(e);
  };
  visit(root);
  return order;
}
