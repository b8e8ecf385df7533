/**
 * A manifest's identity (kind, metadata.name, metadata.version) without zod or the `yaml` library: the line
 * reader (yaml-lines.ts) reads the text and plain checks test the three fields with the schemas' own rules
 * (apiVersion and kind literals, names.ts's package name, patterns.ts's versions). It vouches only for those
 * fields: a command that needs the whole manifest validated parses it with manifest-parse.ts. When the text is
 * outside the line reader's subset, or a field is missing or not what the schema accepts, the answer is
 * undefined and the caller takes the full parse, which decides and words the problem exactly as before.
 */
import type { PackageKind } from "../archive/archive-scan.js";
import { isValidName } from "./names.js";
import { isStrictSemver, PROFILE_VERSION } from "./patterns.js";
import { isMapping, parseSimpleYaml, UNSUPPORTED } from "./yaml-lines.js";

/** addon.yaml's apiVersion (schema-addon.ts re-exports it). */
export const ADDON_API_VERSION = "addons.productive-k3s.io/v1";
/** profile.yaml's apiVersion (schema-profile.ts re-exports it). */
export const PROFILE_API_VERSION = "infra.productive-k3s.io/v1";

export interface ManifestIdentity {
  kind: PackageKind;
  name: string;
  version: string;
}

const EXPECTED: Record<"addon" | "profile", { apiVersion: string; kind: string; version: (v: string) => boolean }> = {
  addon: { apiVersion: ADDON_API_VERSION, kind: "Addon", version: isStrictSemver },
  profile: { apiVersion: PROFILE_API_VERSION, kind: "Profile", version: (v) => PROFILE_VERSION.test(v) },
};

/** The identity of a `kind` manifest when the fast read can vouch for it, else undefined (take the full parse). */
export function quickManifestIdentity(kind: PackageKind, text: string): ManifestIdentity | undefined {
  if (kind === "stack") return undefined;
  const expected = EXPECTED[kind];
  const value = parseSimpleYaml(text.split("\n"));
  if (value === UNSUPPORTED || !isMapping(value)) return undefined;
  if (value.apiVersion !== expected.apiVersion || value.kind !== expected.kind || !isMapping(value.metadata)) return undefined;
  const { name, version } = value.metadata;
  if (typeof name !== "string" || !isValidName("package", name)) return undefined;
  if (typeof version !== "string" || !expected.version(version)) return undefined;
  return { kind, name, version };
}
