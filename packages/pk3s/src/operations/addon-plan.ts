/**
 * What `pk3s addon install|upgrade` resolves: the requested add-on (from the catalogs, or named directly
 * by an `oci://` reference) and its dependencies, from the configured catalogs.
 */
import { type DependencyPlan, resolveDependencyPlan } from "../catalog/dependency-graph.js";
import { parseSpec } from "../catalog/resolve.js";
import { isOciUrl } from "../oci/reference.js";
import { suggestingNames } from "./name-suggestion.js";
import type { Session } from "./session.js";

/** Usage errors in the spec, before any network access. */
export function checkAddonSpec(rawSpec: string): void {
  if (!isOciUrl(rawSpec)) parseSpec(rawSpec);
}

export async function resolveAddonPlan(session: Session, rawSpec: string, includePrerelease: boolean | undefined): Promise<DependencyPlan> {
  if (isOciUrl(rawSpec)) {
    const { resolveOciReference } = await import("./oci-reference.js");
    const direct = await resolveOciReference(session, rawSpec, "addon");
    const names = (direct.entry.dependencies ?? []).map((d) => d.name);
    // Only the dependencies come from the catalogs: an add-on without any needs no catalog at all.
    const catalogs = names.length === 0 ? [] : await session.catalogsReaching(names);
    return resolveDependencyPlan([direct.catalog, ...catalogs], direct.spec, { includePrerelease });
  }
  const catalogs = await session.catalogsReaching([parseSpec(rawSpec).name]);
  return suggestingNames(session, async () => resolveDependencyPlan(catalogs, rawSpec, { includePrerelease }));
}
