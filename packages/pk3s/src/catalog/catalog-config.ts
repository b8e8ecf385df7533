/**
 * The configured catalog sources: the built-in catalogs of this install plus
 * the ones the user added, from `<configDir>/config.json` (schema:
 * config-schema.ts; written 0600 atomically; credentials are referenced by
 * environment variable name only).
 *
 * Built-in catalogs (DESIGN §3): a checkout has its `catalogs/local`; an npm
 * install has the public Productive K3S catalog and the examples catalog
 * shipped inside this package (offline). `PK3S_DEFAULT_CATALOG` replaces them
 * with one catalog named `local` (`none`: no built-in catalog). They are
 * listed with where they come from, removed like any other (the removal is
 * recorded), never dropped when the user adds a catalog, and rank after the
 * added catalogs at equal priority.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import { NotFoundError, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { configDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import { jsonIssuesToProblems } from "@productive-k3s/pkg-format/schema-problems";
import { packageRoot } from "@productive-k3s/pkg-format/version";
import { type CatalogAuthConfig, type CatalogSource, normaliseSourceUrl } from "./catalog-source.js";
import { ENV_NAME_RE, plainConfig } from "./config-check.js";
import type { Pk3sConfig } from "./config-schema.js";

export type { Pk3sConfig } from "./config-schema.js";

/** The schema, loaded only for a configuration the fast check (config-check.ts) leaves to it: zod costs ~40 ms. */
async function configSchema(): Promise<typeof import("./config-schema.js").Pk3sConfig> {
  return (await import("./config-schema.js")).Pk3sConfig;
}

/** The public Productive K3S catalog (v1alpha1, no digests). */
export const PUBLIC_CATALOG_URL = "https://catalogs.productive-k3s.io/catalogs/index.yaml";

/** Where a source comes from: added by the user, built into this install, or PK3S_DEFAULT_CATALOG. */
export type CatalogOrigin = "added" | "built-in" | "environment";

export type ConfiguredSource = CatalogSource & {
  origin: CatalogOrigin;
  /** For people: "added with pk3s catalog add", "built in: this checkout's catalogs/local", ... */
  from: string;
};

export function configFile(): string {
  return join(configDir(), "config.json");
}

function invalid(file: string, problems: ValidationError["problems"], detail = ""): ValidationError {
  return new ValidationError(`invalid pk3s configuration in ${file}${detail}`, problems, {
    where: file,
    hint:
      "edit the file so that each field shown holds what its line says is expected (pk3s catalog add, catalog remove and any " +
      "later write rewrite it whole), or delete it to start again from the built-in catalogs",
  });
}

/** The configuration file, checked against its schema; an absent file is the empty configuration. */
export async function loadConfig(): Promise<Pk3sConfig> {
  const file = configFile();
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { catalogs: [], removedBuiltins: [] };
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalid(file, [], `: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const plain = plainConfig(raw);
  if (plain !== undefined) return plain;
  const parsed = (await configSchema()).safeParse(raw);
  if (!parsed.success) throw invalid(file, jsonIssuesToProblems(parsed.error.issues, raw, file));
  return parsed.data;
}

/** Validated before it is written: pk3s never saves a configuration it could not read back. */
export async function saveConfig(config: Pk3sConfig): Promise<void> {
  const checked = plainConfig(config) ?? (await configSchema()).parse(config);
  await ensurePrivateDir(configDir());
  await writeJsonAtomic(configFile(), checked, { mode: 0o600 });
}

/** The repository's local catalog, when pk3s runs from a checkout: <repo>/catalogs/local/ beside packages/pk3s/. */
export function repositoryLocalCatalog(): string | undefined {
  const root = packageRoot(import.meta.url);
  if (root === undefined) return undefined;
  const path = join(root.dir, "..", "..", "catalogs", "local", "index.yaml");
  return existsSync(path) ? path : undefined;
}

/** The examples catalog packed into this package at build time (`examples/index.yaml`), if present. */
export function examplesCatalog(): string | undefined {
  const root = packageRoot(import.meta.url);
  if (root === undefined) return undefined;
  const path = join(root.dir, "examples", "index.yaml");
  return existsSync(path) ? path : undefined;
}

/** The built-in catalogs of this install, before the user's removals. */
export function builtinSources(): ConfiguredSource[] {
  const fromEnv = process.env.PK3S_DEFAULT_CATALOG;
  if (fromEnv === "none") return [];
  if (fromEnv !== undefined && fromEnv !== "") {
    return [{ name: "local", url: normaliseSourceUrl(fromEnv), priority: 0, origin: "environment", from: "PK3S_DEFAULT_CATALOG" }];
  }
  const checkout = repositoryLocalCatalog();
  if (checkout !== undefined) {
    return [
      {
        name: "local",
        url: normaliseSourceUrl(checkout),
        priority: 0,
        origin: "built-in",
        from: "built in: this checkout's catalogs/local",
      },
    ];
  }
  const out: ConfiguredSource[] = [
    {
      name: "productive-k3s",
      url: PUBLIC_CATALOG_URL,
      priority: 0,
      origin: "built-in",
      from: "built in: the public Productive K3S catalog",
    },
  ];
  const examples = examplesCatalog();
  if (examples !== undefined) {
    out.push({
      name: "examples",
      url: normaliseSourceUrl(examples),
      priority: 0,
      origin: "built-in",
      from: "built in: examples shipped inside pk3s (offline)",
    });
  }
  return out;
}

export interface EffectiveSources {
  /** The added catalogs first, then the built-in ones (ties in priority go to the earlier). */
  sources: ConfiguredSource[];
  config: Pk3sConfig;
}

/** Every catalog in use: the added ones, then the built-in ones not removed and not replaced by an added one of the same name. */
export async function effectiveSources(): Promise<EffectiveSources> {
  const config = await loadConfig();
  const added: ConfiguredSource[] = config.catalogs.map((c) => ({ ...c, origin: "added", from: "added with pk3s catalog add" }));
  const taken = new Set([...config.catalogs.map((c) => c.name), ...config.removedBuiltins]);
  const builtins = builtinSources().filter((b) => !taken.has(b.name));
  return { sources: [...added, ...builtins], config };
}

export function noCatalogsError(): NotFoundError {
  return new NotFoundError("no catalog is configured", {
    hint: "add one with pk3s catalog add <name> <url|path>; built-in catalogs you removed come back when you delete them from removedBuiltins in config.json",
  });
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
  const url = normaliseSourceUrl(input.location);
  if (auth !== undefined && url.startsWith("oci:")) {
    throw new UsageError("--token-env/--username/--password-env are for HTTP catalogs; a registry has its own login", {
      hint: "pk3s registry login HOST --username U --password-stdin (or an existing docker login) covers every repository of the registry",
    });
  }
  const trustedKeys = input.trustedKeys !== undefined && input.trustedKeys.length > 0 ? [...new Set(input.trustedKeys)] : undefined;
  return { name: input.name, url, priority, auth, ...(trustedKeys ? { trustedKeys } : {}) };
}

/**
 * Whether catalogs without trusted keys are refused: the flag, PK3S_REQUIRE_SIGNATURES=1, or the configuration
 * (`config`: one the caller already read, else config.json is read here).
 */
export async function requireSignatures(flag: boolean | undefined, config: () => Promise<Pk3sConfig> = loadConfig): Promise<boolean> {
  if (flag === true || process.env.PK3S_REQUIRE_SIGNATURES === "1") return true;
  return (await config()).requireSignatures === true;
}

/** Sources sorted by priority (higher first), then in configuration order. */
export function byPriority<T extends CatalogSource>(sources: readonly T[]): T[] {
  return sources
    .map((s, i) => ({ s, i }))
    .sort((a, b) => b.s.priority - a.s.priority || a.i - b.i)
    .map(({ s }) => s);
}
