/** `pk3s catalog add|list|remove|update`: configuration and cache refresh (trusted keys: catalog-trust-ops.ts). */
import { NotFoundError, type Problem, UsageError } from "@productive-k3s/pkg-format/errors";
import { parsePublicKey, readPublicKeys } from "@productive-k3s/pkg-format/minisign";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { CatalogCache } from "../catalog/catalog-cache.js";
import {
  type AddCatalogInput,
  buildCatalogSource,
  builtinSources,
  byPriority,
  type CatalogOrigin,
  type ConfiguredSource,
  configFile,
  effectiveSources,
  noCatalogsError,
  type Pk3sConfig,
  requireSignatures,
  saveConfig,
} from "../catalog/catalog-config.js";
import { loadCatalog } from "../catalog/catalog-set.js";
import type { CatalogAuthConfig } from "../catalog/catalog-source.js";
import { displayUrl } from "../fetch/fetcher.js";
import type { RegistryFlags } from "../oci/registry-settings.js";
import { withSession } from "./session.js";

export interface CatalogView {
  name: string;
  url: string;
  priority: number;
  /** e.g. "bearer token from $ACME_TOKEN": names the variable, never the secret. */
  auth: string | null;
  /** added (pk3s catalog add), built-in (this install's defaults) or environment (PK3S_DEFAULT_CATALOG). */
  origin: CatalogOrigin;
  /** Where it comes from, for people. */
  from: string;
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

function view(source: ConfiguredSource, lastFetched: string | undefined): CatalogView {
  return {
    name: source.name,
    url: displayUrl(source.url),
    priority: source.priority,
    auth: describeAuth(source.auth),
    origin: source.origin,
    from: source.from,
    lastFetched: lastFetched ?? null,
    signed: (source.trustedKeys ?? []).length > 0,
    keyIds: (source.trustedKeys ?? []).map((line) => parsePublicKey(line, `catalog "${source.name}" trusted key`).id),
  };
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`no catalog named "${name}"`, { where: configFile(), hint: "list them with `pk3s catalog list`" });
}

/**
 * Add a catalog source. Like `helm repo add`, the index is fetched (and
 * cached) first, so a typo, a missing file, bad credentials or an index that
 * does not parse is reported now and nothing is saved; `offline` skips that
 * check (for a catalog that is only reachable later, e.g. from CI). Without a
 * location, a built-in catalog that was removed is restored.
 */
export async function addCatalog(
  input: Omit<AddCatalogInput, "location" | "trustedKeys"> & {
    location?: string | undefined;
    offline?: boolean | undefined;
    trustKeys?: string[] | undefined;
  } & RegistryFlags,
): Promise<{ catalog: CatalogView; configFile: string; entries: number | null }> {
  assertValidName("catalog", input.name, "catalog name");
  const keys = await readPublicKeys(input.trustKeys ?? [], "--trust-key");
  const { sources, config } = await effectiveSources();
  const existing = sources.find((c) => c.name === input.name);
  if (existing !== undefined) {
    throw new UsageError(`catalog "${input.name}" already exists (${existing.from})`, {
      hint: `choose another name, or remove it first: pk3s catalog remove ${input.name}`,
    });
  }
  if (input.location === undefined) {
    refuseSettingsWithoutLocation({ ...input, trustKeys: keys });
    return restoreBuiltin(input.name, config);
  }
  const source = buildCatalogSource({ ...input, location: input.location, trustedKeys: keys.map((k) => k.base64) });
  let entries: number | null = null;
  if (input.offline !== true) {
    const required = await requireSignatures(undefined);
    const registry = { caFile: input.caFile, plainHttp: input.plainHttp };
    const loaded = await withSession({ registry }, (session) =>
      loadCatalog(source, {
        transport: session.transport,
        offline: false,
        forceRefresh: true,
        requireSignatures: required,
        countOnly: true,
      }),
    );
    entries = loaded.total ?? loaded.entries.length;
  }
  config.catalogs.push(source);
  await saveConfig(config);
  // A registry catalog reached with --ca-file/--plain-http needs them on every later command too.
  if (source.url.startsWith("oci:") && (input.caFile !== undefined || input.plainHttp === true)) {
    const { rememberRegistryFlags } = await import("../oci/registry-settings.js");
    const { parseOciRepository } = await import("../oci/reference.js");
    await rememberRegistryFlags(parseOciRepository(source.url, "catalog").registry, input);
  }
  return {
    catalog: view({ ...source, origin: "added", from: "added with pk3s catalog add" }, undefined),
    configFile: configFile(),
    entries,
  };
}

/**
 * A built-in catalog comes back as it was built: a flag that would configure it (a trusted key above all) is
 * refused rather than dropped, so nobody believes a key pinned that is not.
 */
function refuseSettingsWithoutLocation(input: {
  trustKeys: unknown[];
  tokenEnv?: string | undefined;
  username?: string | undefined;
  passwordEnv?: string | undefined;
  priority?: number | undefined;
}): void {
  const given = [
    input.trustKeys.length > 0 ? "--trust-key" : undefined,
    input.tokenEnv === undefined ? undefined : "--token-env",
    input.username === undefined ? undefined : "--username",
    input.passwordEnv === undefined ? undefined : "--password-env",
    input.priority === undefined ? undefined : "--priority",
  ].filter((flag) => flag !== undefined);
  if (given.length === 0) return;
  throw new UsageError(
    `${given.join(", ")} need${given.length === 1 ? "s" : ""} a URL or path: without one, catalog add restores a built-in catalog as it is built`,
    {
      where: given[0],
      hint: `add the catalog's URL under a name of your own: pk3s catalog add <name> <url|path> ${given.map((f) => `${f} ...`).join(" ")}`,
    },
  );
}

async function restoreBuiltin(
  name: string,
  config: Pk3sConfig,
): Promise<{ catalog: CatalogView; configFile: string; entries: number | null }> {
  const builtin = builtinSources().find((b) => b.name === name);
  if (builtin === undefined) {
    const names = builtinSources().map((b) => b.name);
    throw new UsageError(`"${name}" is not a built-in catalog: give its URL or path`, {
      hint: `pk3s catalog add ${name} <url|path>${names.length > 0 ? `; the built-in catalogs are: ${names.join(", ")}` : ""}`,
    });
  }
  config.removedBuiltins = config.removedBuiltins.filter((n) => n !== name);
  await saveConfig(config);
  return { catalog: view(builtin, undefined), configFile: configFile(), entries: null };
}

export async function listCatalogs(): Promise<{ catalogs: CatalogView[] }> {
  const { sources } = await effectiveSources();
  const out: CatalogView[] = [];
  for (const s of byPriority(sources)) out.push(view(s, (await new CatalogCache(s.url).readMeta())?.fetchedAt));
  return { catalogs: out };
}

/**
 * Remove a catalog, added or built in, and its cached index. A built-in one
 * stays removed (recorded in config.json); so does a built-in of the same
 * name as an added one that is removed (the user wants no catalog by that name).
 */
export async function removeCatalog(name: string): Promise<{ removed: string; origin: CatalogOrigin }> {
  assertValidName("catalog", name, "catalog name");
  const { sources, config } = await effectiveSources();
  const found = sources.find((c) => c.name === name);
  if (found === undefined) throw notFound(name);
  config.catalogs = config.catalogs.filter((c) => c.name !== name);
  if (builtinSources().some((b) => b.name === name) && !config.removedBuiltins.includes(name)) config.removedBuiltins.push(name);
  await saveConfig(config);
  await new CatalogCache(found.url).remove();
  return { removed: name, origin: found.origin };
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
  if (selected.length === 0) throw notFound(name ?? "");
  const required = await requireSignatures(undefined);
  return withSession({}, async (session) => {
    const out: UpdatedCatalog[] = [];
    for (const source of selected) {
      const loaded = await loadCatalog(source, {
        transport: session.transport,
        offline: false,
        forceRefresh: true,
        requireSignatures: required,
        countOnly: true,
      });
      out.push({
        name: source.name,
        url: displayUrl(source.url),
        entries: loaded.total ?? loaded.entries.length,
        origin: loaded.origin,
        warnings: loaded.warnings,
      });
    }
    return { catalogs: out };
  });
}
