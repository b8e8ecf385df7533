/** `pk3s catalog add|list|remove|update`: configuration and cache refresh (trusted keys: catalog-trust-ops.ts). */
import { NotFoundError, type Problem, UsageError } from "@productive-k3s/pkg-format/errors";
import { parsePublicKey, readPublicKeys } from "@productive-k3s/pkg-format/minisign";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { CatalogCache } from "../catalog/catalog-cache.js";
import {
  type AddCatalogInput,
  buildCatalogSource,
  byPriority,
  configFile,
  effectiveSources,
  loadConfig,
  noCatalogsError,
  requireSignatures,
  saveConfig,
} from "../catalog/catalog-config.js";
import { loadCatalog } from "../catalog/catalog-set.js";
import type { CatalogAuthConfig, CatalogSource } from "../catalog/catalog-source.js";
import { displayUrl } from "../fetch/fetcher.js";
import { withSession } from "./session.js";

export interface CatalogView {
  name: string;
  url: string;
  priority: number;
  /** e.g. "bearer token from $ACME_TOKEN": names the variable, never the secret. */
  auth: string | null;
  isDefault: boolean;
  lastFetched: string | null;
  /** Whether the catalog has trusted keys (then everything from it must be signed by one of them). */
  signed: boolean;
  /** The trusted keys' ids, as minisign prints them. */
  keyIds: string[];
}

export function describeAuth(auth: CatalogAuthConfig | undefined): string | null {
  if (auth === undefined) return null;
  return auth.type === "bearer"
    ? `bearer token from $${auth.tokenEnv}`
    : `basic auth as ${auth.username}, password from $${auth.passwordEnv}`;
}

function view(source: CatalogSource, isDefault: boolean, lastFetched: string | undefined): CatalogView {
  return {
    name: source.name,
    url: displayUrl(source.url),
    priority: source.priority,
    auth: describeAuth(source.auth),
    isDefault,
    lastFetched: lastFetched ?? null,
    signed: (source.trustedKeys ?? []).length > 0,
    keyIds: (source.trustedKeys ?? []).map((line) => parsePublicKey(line, `catalog "${source.name}" trusted key`).id),
  };
}

/**
 * Add a catalog source. Like `helm repo add`, the index is fetched (and
 * cached) first, so a typo, a missing file, bad credentials or an index that
 * does not parse is reported now and nothing is saved; `offline` skips that
 * check (for a catalog that is only reachable later, e.g. from CI).
 */
export async function addCatalog(
  input: Omit<AddCatalogInput, "trustedKeys"> & { offline?: boolean | undefined; trustKeys?: string[] | undefined },
): Promise<{ catalog: CatalogView; configFile: string; entries: number | null }> {
  const keys = await readPublicKeys(input.trustKeys ?? [], "--trust-key");
  const source = buildCatalogSource({ ...input, trustedKeys: keys.map((k) => k.base64) });
  const config = await loadConfig();
  if (config.catalogs.some((c) => c.name === source.name)) {
    throw new UsageError(`catalog "${source.name}" already exists`, { hint: `remove it first: pk3s catalog remove ${source.name}` });
  }
  let entries: number | null = null;
  if (input.offline !== true) {
    const required = await requireSignatures(undefined);
    const loaded = await withSession({}, (session) =>
      loadCatalog(source, { transport: session.transport, offline: false, forceRefresh: true, requireSignatures: required }),
    );
    entries = loaded.entries.length;
  }
  config.catalogs.push(source);
  await saveConfig(config);
  return { catalog: view(source, false, undefined), configFile: configFile(), entries };
}

export async function listCatalogs(): Promise<{ catalogs: CatalogView[] }> {
  const { sources, isDefault } = await effectiveSources();
  const out: CatalogView[] = [];
  for (const s of byPriority(sources)) out.push(view(s, isDefault, (await new CatalogCache(s.url).readMeta())?.fetchedAt));
  return { catalogs: out };
}

export async function removeCatalog(name: string): Promise<{ removed: string }> {
  assertValidName("catalog", name, "catalog name");
  const config = await loadConfig();
  const found = config.catalogs.find((c) => c.name === name);
  if (found === undefined)
    throw new NotFoundError(`no catalog named "${name}"`, { where: configFile(), hint: "list them with `pk3s catalog list`" });
  config.catalogs = config.catalogs.filter((c) => c.name !== name);
  await saveConfig(config);
  await new CatalogCache(found.url).remove();
  return { removed: name };
}

export interface UpdatedCatalog {
  name: string;
  url: string;
  entries: number;
  origin: string;
  warnings: Problem[];
}

export async function updateCatalogs(name: string | undefined): Promise<{ catalogs: UpdatedCatalog[] }> {
  if (name !== undefined) assertValidName("catalog", name, "catalog name");
  const { sources } = await effectiveSources();
  if (sources.length === 0) throw noCatalogsError();
  const selected = name === undefined ? sources : sources.filter((s) => s.name === name);
  if (selected.length === 0)
    throw new NotFoundError(`no catalog named "${name}"`, { where: configFile(), hint: "list them with `pk3s catalog list`" });
  const required = await requireSignatures(undefined);
  return withSession({}, async (session) => {
    const out: UpdatedCatalog[] = [];
    for (const source of selected) {
      const loaded = await loadCatalog(source, {
        transport: session.transport,
        offline: false,
        forceRefresh: true,
        requireSignatures: required,
      });
      out.push({
        name: source.name,
        url: displayUrl(source.url),
        entries: loaded.entries.length,
        origin: loaded.origin,
        warnings: loaded.warnings,
      });
    }
    return { catalogs: out };
  });
}
