/**
 * "Does this version satisfy that range?", one answer for the three CLIs (catalog resolution, dependency
 * checks against install records, skip decisions): npm semver ranges, plus what catalogs need beyond them.
 * - An empty range is "*".
 * - A range equal to the version matches, also for an opaque (non-semver) version such as "latest".
 * - An opaque version matches only itself and "*".
 * - An invalid range matches nothing.
 * - Prereleases: `includePrerelease` as in semver (default true: a dependency on "^1.2" is met by an
 *   installed 1.3.0-rc.1; catalog resolution passes false unless the user asked for prereleases).
 */
import semver from "semver";

export interface SatisfiesOptions {
  includePrerelease?: boolean;
}

export function versionSatisfies(version: string, range: string, options: SatisfiesOptions = {}): boolean {
  const includePrerelease = options.includePrerelease ?? true;
  const wanted = range === "" ? "*" : range;
  if (wanted === version) return true;
  if (semver.valid(version) === null) return wanted === "*";
  if (semver.validRange(wanted) === null) return false;
  return semver.satisfies(version, wanted, { includePrerelease });
}
