/**
 * `<configDir>/config.json`: the configured catalog sources. Written 0600
 * atomically; credentials are referenced by environment variable name only.
 * When nothing is configured, the default is PK3S_DEFAULT_CATALOG, else the
 * repository's `catalogs/local/index.yaml` (found relative to this package,
 * so it works from a checkout).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import { NotFoundError, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { assertValidName, isValidName, nameRuleText } from "@productive-k3s/pkg-format/names";
import { configDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import { packageRoot } from "@productive-k3s/pkg-format/version";
import { type CatalogAuthConfig, type CatalogSource, normaliseSourceUrl } from "./catalog-source.js";

export interface Pk3sConfig {
  catalogs: CatalogSource[];
  /** Refuse every catalog without trusted keys (also `--require-signatures`, PK3S_REQUIRE_SIGNATURES=1). */
  requireSignatures?: boolean | undefined;
}

export const DEFAULT_CATALOG_NAME = "local";
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A minisign public key's base64 line (checked in full where it is used). */
const PUBLIC_KEY_LINE_RE = /^RW[A-Za-z0-9+/]{54}$/;

export function configFile(): string {
  return join(configDir(), "config.json");
}

function invalid(file: string, path: string, message: string): ValidationError {
  return new ValidationError(`invalid pk3s configuration in ${file}`, [{ file, path, message, severity: "error" }], {
    where: file,
    hint: "fix or remove the file; `pk3s catalog add` rewrites it",
  });
}

function parseAuth(raw: unknown, file: string, path: string): CatalogAuthConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "object") throw invalid(file, path, "expected an object");
  const a = raw as Record<string, unknown>;
  if (a.type === "bearer" && typeof a.tokenEnv === "string" && ENV_NAME_RE.test(a.tokenEnv))
    return { type: "bearer", tokenEnv: a.tokenEnv };
  if (a.type === "basic" && typeof a.username === "string" && typeof a.passwordEnv === "string" && ENV_NAME_RE.test(a.passwordEnv)) {
    return { type: "basic", username: a.username, passwordEnv: a.passwordEnv };
  }
  throw invalid(file, path, 'expected {type: "bearer", tokenEnv} or {type: "basic", username, passwordEnv}');
}

export async function loadConfig(): Promise<Pk3sConfig> {
  const file = configFile();
  let raw: unknown;
  try {
    raw = await readJsonFile<unknown>(file);
  } catch (err) {
    throw invalid(file, "", `not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (raw === undefined) return { catalogs: [] };
  if (typeof raw !== "object" || raw === null || !Array.isArray((raw as { catalogs?: unknown }).catalogs)) {
    throw invalid(file, "catalogs", "expected {catalogs: [...]}");
  }
  const catalogs: CatalogSource[] = [];
  (raw as { catalogs: unknown[] }).catalogs.forEach((c, i) => {
    const path = `catalogs[${i}]`;
    if (typeof c !== "object" || c === null) throw invalid(file, path, "expected an object");
    const e = c as Record<string, unknown>;
    if (typeof e.name !== "string" || !isValidName("catalog", e.name))
      throw invalid(file, `${path}.name`, `expected a catalog name: ${nameRuleText("catalog")}`);
    if (typeof e.url !== "string") throw invalid(file, `${path}.url`, "expected a string");
    const priority = e.priority ?? 0;
    if (typeof priority !== "number" || !Number.isInteger(priority)) throw invalid(file, `${path}.priority`, "expected an integer");
    const trustedKeys = e.trustedKeys ?? [];
    if (!Array.isArray(trustedKeys) || !trustedKeys.every((k) => typeof k === "string" && PUBLIC_KEY_LINE_RE.test(k)))
      throw invalid(file, `${path}.trustedKeys`, "expected a list of minisign public keys (RW... base64 lines)");
    catalogs.push({
      name: e.name,
      url: e.url,
      priority,
      auth: parseAuth(e.auth, file, `${path}.auth`),
      ...(trustedKeys.length > 0 ? { trustedKeys: trustedKeys as string[] } : {}),
    });
  });
  const requireSignatures = (raw as { requireSignatures?: unknown }).requireSignatures;
  if (requireSignatures !== undefined && typeof requireSignatures !== "boolean")
    throw invalid(file, "requireSignatures", "expected true or false");
  return { catalogs, ...(requireSignatures === true ? { requireSignatures } : {}) };
}

export async function saveConfig(config: Pk3sConfig): Promise<void> {
  await ensurePrivateDir(configDir());
  const catalogs = config.catalogs.map((c) => ({
    name: c.name,
    url: c.url,
    priority: c.priority,
    ...(c.auth ? { auth: c.auth } : {}),
    ...(c.trustedKeys !== undefined && c.trustedKeys.length > 0 ? { trustedKeys: c.trustedKeys } : {}),
  }));
  await writeJsonAtomic(
    configFile(),
    { catalogs, ...(config.requireSignatures === true ? { requireSignatures: true } : {}) },
    { mode: 0o600 },
  );
}

/** The repository's local catalog, when pk3s runs from a checkout: <repo>/catalogs/local/ beside packages/pk3s/. */
export function repositoryLocalCatalog(): string | undefined {
  const root = packageRoot(import.meta.url);
  if (root === undefined) return undefined;
  const path = join(root.dir, "..", "..", "catalogs", "local", "index.yaml");
  return existsSync(path) ? path : undefined;
}

export interface EffectiveSources {
  sources: CatalogSource[];
  /** True when no catalog is configured and the embedded default is used. */
  isDefault: boolean;
}

/** Configured sources, or the default catalog when none is configured. */
export async function effectiveSources(): Promise<EffectiveSources> {
  const config = await loadConfig();
  if (config.catalogs.length > 0) return { sources: config.catalogs, isDefault: false };
  const fromEnv = process.env.PK3S_DEFAULT_CATALOG;
  const location = fromEnv !== undefined && fromEnv !== "" ? fromEnv : repositoryLocalCatalog();
  if (location === undefined) return { sources: [], isDefault: true };
  return { sources: [{ name: DEFAULT_CATALOG_NAME, url: normaliseSourceUrl(location), priority: 0 }], isDefault: true };
}

export function noCatalogsError(): NotFoundError {
  return new NotFoundError("no catalog is configured", { hint: "add one: pk3s catalog add <name> <url|path>" });
}

export interface AddCatalogInput {
  name: string;
  location: string;
  priority?: number | undefined;
  tokenEnv?: string | undefined;
  username?: string | undefined;
  passwordEnv?: string | undefined;
  /** Public keys' base64 lines (already read from `--trust-key` files or lines). */
  trustedKeys?: string[] | undefined;
}

export function buildCatalogSource(input: AddCatalogInput): CatalogSource {
  assertValidName("catalog", input.name, "catalog name");
  if (input.tokenEnv !== undefined && (input.username !== undefined || input.passwordEnv !== undefined)) {
    throw new UsageError("use either --token-env or --username/--password-env, not both");
  }
  if ((input.username === undefined) !== (input.passwordEnv === undefined)) {
    throw new UsageError("--username and --password-env go together");
  }
  for (const v of [input.tokenEnv, input.passwordEnv]) {
    if (v !== undefined && !ENV_NAME_RE.test(v)) {
      throw new UsageError(`"${v}" is not an environment variable name`, {
        hint: "pass the NAME of the variable that holds the secret (e.g. --token-env MY_CATALOG_TOKEN), never the secret itself",
      });
    }
  }
  const auth: CatalogAuthConfig | undefined =
    input.tokenEnv !== undefined
      ? { type: "bearer", tokenEnv: input.tokenEnv }
      : input.username !== undefined && input.passwordEnv !== undefined
        ? { type: "basic", username: input.username, passwordEnv: input.passwordEnv }
        : undefined;
  const priority = input.priority ?? 0;
  if (!Number.isInteger(priority)) throw new UsageError(`--priority must be an integer, got ${priority}`);
  const trustedKeys = input.trustedKeys !== undefined && input.trustedKeys.length > 0 ? [...new Set(input.trustedKeys)] : undefined;
  return { name: input.name, url: normaliseSourceUrl(input.location), priority, auth, ...(trustedKeys ? { trustedKeys } : {}) };
}

/** Whether catalogs without trusted keys are refused: the flag, PK3S_REQUIRE_SIGNATURES=1, or the configuration. */
export async function requireSignatures(flag: boolean | undefined): Promise<boolean> {
  if (flag === true || process.env.PK3S_REQUIRE_SIGNATURES === "1") return true;
  return (await loadConfig()).requireSignatures === true;
}

/** Sources sorted by priority (higher first), then in configuration order. */
export function byPriority(sources: readonly CatalogSource[]): CatalogSource[] {
  return sources
    .map((s, i) => ({ s, i }))
    .sort((a, b) => b.s.priority - a.s.priority || a.i - b.i)
    .map(({ s }) => s);
}
