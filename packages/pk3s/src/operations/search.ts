/**
 * `pk3s search`: matching packages of every configured catalog, newest version first. Its own module so that a
 * search loads the catalog code and nothing of the download path (show.ts and fetch-entry.ts hold that).
 */
import { warn } from "@productive-k3s/pkg-format/cli";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { compareText } from "@productive-k3s/pkg-format/text-order";
import { formatColumns } from "@productive-k3s/pkg-format/text-table";
import type { LoadedCatalog, ResolvedEntry } from "../catalog/loaded-catalog.js";
import { type PackageType, sortVersionsDesc } from "../catalog/resolve.js";
import { Session } from "./session.js";

export interface SearchRow {
  name: string;
  type: string;
  version: string;
  catalog: string;
  category: string | null;
  description: string | null;
  versions: string[];
  deprecated: boolean;
}

export interface SearchOptions {
  type?: PackageType | undefined;
  offline?: boolean | undefined;
  requireSignatures?: boolean | undefined;
}

export async function search(term: string | undefined, options: SearchOptions): Promise<{ results: SearchRow[] }> {
  const session = new Session({ offline: options.offline, requireSignatures: options.requireSignatures });
  try {
    const needle = term?.toLowerCase();
    const catalogs = readableForSearch(await session.catalogs(undefined, false, { needle }));
    const groups = new Map<string, ResolvedEntry[]>();
    for (const c of catalogs) {
      for (const e of c.entries) {
        if (options.type !== undefined && e.type !== options.type) continue;
        if (needle !== undefined && ![e.name, e.description ?? "", e.category ?? ""].some((s) => s.toLowerCase().includes(needle)))
          continue;
        const key = `${c.source.name}\u0000${e.type}\u0000${e.name}`;
        groups.set(key, [...(groups.get(key) ?? []), e]);
      }
    }
    const results = [...groups.values()].map((entries) => {
      const sorted = sortVersionsDesc(entries);
      const latest = sorted.find((e) => e.deprecated !== true) ?? sorted[0]!;
      return {
        name: latest.name,
        type: latest.type,
        version: latest.version,
        catalog: latest.catalog,
        category: latest.category ?? null,
        description: latest.description ?? null,
        versions: sorted.map((e) => e.version),
        deprecated: sorted.every((e) => e.deprecated === true),
      };
    });
    results.sort((a, b) => compareText(a.name, b.name) || compareText(a.catalog, b.catalog));
    return { results };
  } finally {
    await session.close();
  }
}

/**
 * Search lists what it can: a catalog that cannot be read (the public one on
 * a machine without network, say) is left out with a warning. It is an error
 * only when no catalog could be read.
 */
function readableForSearch(catalogs: LoadedCatalog[]): LoadedCatalog[] {
  const readable = catalogs.filter((c) => c.failure === undefined);
  const failed = catalogs.filter((c) => c.failure !== undefined);
  if (readable.length === 0 && failed[0] !== undefined) throw failed[0].failure;
  for (const c of failed) {
    const why = c.failure instanceof Error ? c.failure.message : String(c.failure);
    warn(`catalog "${c.source.name}" could not be read and is left out of the results: ${why}`);
  }
  return readable;
}

export function renderSearch(rows: SearchRow[]): string {
  if (rows.length === 0) return "no packages found";
  const header = ["NAME", "TYPE", "VERSION", "CATALOG", "DESCRIPTION"];
  const lines = rows.map((r) => [r.name, r.type, r.version + (r.deprecated ? " (deprecated)" : ""), r.catalog, r.description ?? ""]);
  // Every cell may come from a catalog: no control character reaches the terminal.
  return formatColumns([header, ...lines.map((cells) => cells.map(terminalLine))]);
}
