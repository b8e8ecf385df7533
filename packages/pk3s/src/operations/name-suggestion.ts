/**
 * "Did you mean" for a package name no catalog has (`pk3s addon show
 * longhron` → longhorn). Resolution reads only the entries of the names it
 * asks for, so on that error (and only then) the catalogs are read whole to
 * find the closest name of the same type.
 */
import { suggestName } from "@productive-k3s/pkg-format/did-you-mean";
import { PackageNotFoundError } from "../catalog/resolve.js";
import type { Session } from "./session.js";

export async function suggestingNames<T>(session: Session, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof PackageNotFoundError)) throw err;
    const catalogs = await session.catalogs(err.spec).catch(() => []);
    const names = new Set<string>();
    for (const c of catalogs) for (const e of c.entries) if (e.type === err.type) names.add(e.name);
    const suggestion = suggestName(err.spec.name, names);
    throw suggestion === undefined ? err : err.withSuggestion(suggestion);
  }
}
