/** `pk3s addon|profile show`: one package's entry and its other versions, from the catalogs or a registry. */
import { warn } from "@productive-k3s/pkg-format/cli";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { ResolvedEntry } from "../catalog/loaded-catalog.js";
import { candidatesFor, type PackageType, parseSpec, resolveEntry, sortVersionsDesc } from "../catalog/resolve.js";
import { displayUrl } from "../fetch/fetcher.js";
import { isOciUrl } from "../oci/reference.js";
import { formatBytes } from "../output/byte-size.js";
import { type Compatibility, compatibilityText } from "../output/compatibility-text.js";
import { type FetchFlags, sessionOptions } from "./fetch-entry.js";
import { suggestingNames } from "./name-suggestion.js";
import { Session } from "./session.js";

export interface ShowInput extends FetchFlags {
  type: PackageType;
}

export interface PackageDetails {
  name: string;
  type: string;
  version: string;
  catalog: string;
  url: string;
  digest: string | null;
  size: number | null;
  description: string | null;
  category: string | null;
  deprecated: boolean;
  versions: { version: string; deprecated: boolean }[];
  dependencies: { name: string; version: string }[];
  compatibility: Compatibility | null;
  inputs: {
    name: string;
    required: boolean;
    sensitive: boolean;
    source: string;
    description: string | null;
    /** Has to be supplied by the invoking machine's --env-file. */
    fromEnvFile: boolean;
  }[];
  /** Publisher metadata from the catalog entry (null when the entry has none). */
  maintainers: string[] | null;
  license: string | null;
  homepage: string | null;
  source: string | null;
  created: string | null;
}

/** The entry `rawSpec` names and the other versions of its package: from the catalogs, or from a registry. */
async function showTarget(
  session: Session,
  rawSpec: string,
  input: ShowInput,
): Promise<{ entry: ResolvedEntry; entries: ResolvedEntry[] }> {
  if (isOciUrl(rawSpec)) {
    const { ociVersions, resolveOciReference } = await import("./oci-reference.js");
    const { entry } = await resolveOciReference(session, rawSpec, input.type);
    return { entry, entries: await ociVersions(session, rawSpec, entry) };
  }
  const spec = parseSpec(rawSpec);
  const catalogs = await session.catalogs(spec, false, { names: new Set([spec.name]) });
  const entry = await suggestingNames(session, async () =>
    resolveEntry(catalogs, spec, { type: input.type, includePrerelease: input.includePrerelease }),
  );
  return { entry, entries: candidatesFor(catalogs, spec, input.type).entries };
}

export async function show(rawSpec: string, input: ShowInput): Promise<PackageDetails> {
  const session = new Session(sessionOptions(input));
  try {
    const { entry, entries } = await showTarget(session, rawSpec, input);
    if (entry.deprecated === true) warn(`${entry.name}@${entry.version} is deprecated`);
    return {
      name: entry.name,
      type: entry.type,
      version: entry.version,
      catalog: entry.catalog,
      url: displayUrl(entry.resolvedUrl),
      digest: entry.digest ?? null,
      size: entry.size ?? null,
      description: entry.description ?? null,
      category: entry.category ?? null,
      deprecated: entry.deprecated === true,
      versions: sortVersionsDesc(entries).map((e) => ({ version: e.version, deprecated: e.deprecated === true })),
      dependencies: (entry.dependencies ?? []).map((d) => ({ name: d.name, version: d.version ?? "*" })),
      compatibility: entry.compatibility ?? null,
      inputs: (entry.inputs ?? []).map((i) => ({
        name: i.name,
        required: i.required === true,
        sensitive: i.sensitive === true,
        source: i.source ?? "either",
        description: i.description ?? null,
        fromEnvFile: i.source === "local-override",
      })),
      maintainers: entry.maintainers ?? null,
      license: entry.license ?? null,
      homepage: entry.homepage ?? null,
      source: entry.source ?? null,
      created: entry.created ?? null,
    };
  } finally {
    await session.close();
  }
}

function formatSize(n: number | null): string {
  if (n === null) return "unknown";
  return formatBytes(n);
}

/** `show`'s text. Every field comes from a catalog, so the whole text is made terminal-safe line by line. */
export function renderDetails(d: PackageDetails): string {
  return detailLines(d).map(terminalLine).join("\n");
}

function detailLines(d: PackageDetails): string[] {
  const out = [
    `${d.name}@${d.version} (${d.type}, catalog ${d.catalog})${d.deprecated ? " DEPRECATED" : ""}`,
    `description: ${d.description ?? "-"}`,
    `category:    ${d.category ?? "-"}`,
    `url:         ${d.url}`,
    `digest:      ${d.digest ?? "none (unverifiable: needs --allow-unverified)"}`,
    `size:        ${formatSize(d.size)}`,
    `versions:    ${d.versions.map((v) => v.version + (v.deprecated ? " (deprecated)" : "")).join(", ")}`,
    ...(d.maintainers === null ? [] : [`maintainers: ${d.maintainers.join(", ")}`]),
    ...(d.license === null ? [] : [`license:     ${d.license}`]),
    ...(d.homepage === null ? [] : [`homepage:    ${d.homepage}`]),
    ...(d.source === null ? [] : [`source:      ${d.source}`]),
    ...(d.created === null ? [] : [`created:     ${d.created}`]),
  ];
  if (d.type === "addon") {
    out.push(`dependencies: ${d.dependencies.length === 0 ? "none" : d.dependencies.map((x) => `${x.name}@${x.version}`).join(", ")}`);
  }
  out.push(`compatibility: ${d.compatibility === null ? "not declared" : compatibilityText(d.compatibility)}`);
  if (d.type === "profile") {
    if (d.inputs.length === 0) out.push("inputs: none declared");
    else {
      out.push("inputs:");
      for (const i of d.inputs) {
        const flags = [i.required ? "required" : "optional", i.sensitive ? "sensitive" : "", `source ${i.source}`]
          .filter((s) => s !== "")
          .join(", ");
        out.push(
          `  ${i.name} (${flags})${i.fromEnvFile ? " — must come from --env-file" : ""}${i.description ? `: ${i.description}` : ""}`,
        );
      }
    }
  }
  return out;
}
