/**
 * The fast check of `<configDir>/config.json`: accepts only what the zod schema (config-schema.ts, the single
 * source of truth) accepts, and returns what it would return, without loading zod. Every catalog command reads
 * the configuration, and zod costs ~40 ms to load (issue 19: a warm search is ~0.1 s). Anything this check does
 * not accept goes to the schema, which decides and words the problems: the check may be stricter than the
 * schema, never looser (config-check.test.ts holds the two to that).
 */
import { isValidName } from "@productive-k3s/pkg-format/names";
import type { CatalogAuthConfig, CatalogSource, Pk3sConfig } from "./config-schema.js";

export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const SCHEMES = new Set(["http:", "https:", "file:"]);

type Fields = Record<string, unknown>;

const isObject = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);
/** Only `allowed` keys, as a zod strict object requires. */
const onlyKeys = (v: Fields, allowed: readonly string[]): boolean => Object.keys(v).every((k) => allowed.includes(k));
const isEnvName = (v: unknown): v is string => typeof v === "string" && ENV_NAME_RE.test(v);
const isCatalogName = (v: unknown): v is string => typeof v === "string" && isValidName("catalog", v);

function isCatalogUrl(v: unknown): v is string {
  if (typeof v !== "string") return false;
  try {
    return SCHEMES.has(new URL(v).protocol);
  } catch {
    return false;
  }
}

function plainAuth(v: unknown): CatalogAuthConfig | undefined {
  if (!isObject(v)) return undefined;
  if (v.type === "bearer" && onlyKeys(v, ["type", "tokenEnv"]) && isEnvName(v.tokenEnv)) {
    return { type: "bearer", tokenEnv: v.tokenEnv };
  }
  if (
    v.type === "basic" &&
    onlyKeys(v, ["type", "username", "passwordEnv"]) &&
    typeof v.username === "string" &&
    v.username.length > 0 &&
    isEnvName(v.passwordEnv)
  ) {
    return { type: "basic", username: v.username, passwordEnv: v.passwordEnv };
  }
  return undefined;
}

function plainSource(v: unknown): CatalogSource | undefined {
  if (!isObject(v) || !onlyKeys(v, ["name", "url", "priority", "auth"])) return undefined;
  if (!isCatalogName(v.name) || !isCatalogUrl(v.url)) return undefined;
  const priority = v.priority ?? 0;
  if (typeof priority !== "number" || !Number.isSafeInteger(priority)) return undefined;
  const source: CatalogSource = { name: v.name, url: v.url, priority };
  if (v.auth !== undefined) {
    const auth = plainAuth(v.auth);
    if (auth === undefined) return undefined;
    source.auth = auth;
  }
  return source;
}

/** The configuration as the schema would return it, or undefined when the schema has to decide. */
export function plainConfig(raw: unknown): Pk3sConfig | undefined {
  if (!isObject(raw) || !onlyKeys(raw, ["catalogs", "removedBuiltins"])) return undefined;
  const catalogs: CatalogSource[] = [];
  if (raw.catalogs !== undefined) {
    if (!Array.isArray(raw.catalogs)) return undefined;
    const names = new Set<string>();
    for (const item of raw.catalogs) {
      const source = plainSource(item);
      if (source === undefined || names.has(source.name)) return undefined;
      names.add(source.name);
      catalogs.push(source);
    }
  }
  const removed = raw.removedBuiltins ?? [];
  if (!Array.isArray(removed) || !removed.every(isCatalogName)) return undefined;
  return { catalogs, removedBuiltins: [...removed] };
}
