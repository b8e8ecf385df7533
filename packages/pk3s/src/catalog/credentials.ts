/**
 * Credentials for private catalogs. A catalog's `auth` names environment
 * variables; alternatively a credentials file (PK3S_CREDENTIALS_FILE or
 * `<configDir>/credentials.json`, mode 0600 or refused) maps catalog name to
 * `{token}` or `{username, password}`. The result is bound to the catalog's
 * origin so the HTTP layer never sends it anywhere else.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { configDir } from "@productive-k3s/pkg-format/paths";
import type { OriginAuth } from "../fetch/fetcher.js";
import type { CatalogSource } from "./catalog-source.js";

type FileCredential = { token: string } | { username: string; password: string };

function credentialsFile(): { path: string; explicit: boolean } {
  const env = process.env.PK3S_CREDENTIALS_FILE;
  return env !== undefined && env !== "" ? { path: env, explicit: true } : { path: join(configDir(), "credentials.json"), explicit: false };
}

async function readCredentialsFile(): Promise<Record<string, FileCredential> | undefined> {
  const { path, explicit } = credentialsFile();
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      if (explicit) throw new UsageError(`PK3S_CREDENTIALS_FILE points to a missing file: ${path}`);
      return undefined;
    }
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new ValidationError(
      `refusing to read credentials file ${path}: its mode is ${(mode & 0o777).toString(8)}, readable by others`,
      [],
      {
        where: path,
        hint: `chmod 600 ${path}`,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch {
    throw new ValidationError(`credentials file ${path} is not valid JSON`, [], { where: path });
  }
  if (typeof parsed !== "object" || parsed === null)
    throw new ValidationError(`credentials file ${path} must map catalog names to credentials`);
  const out: Record<string, FileCredential> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    const v = value as Record<string, unknown> | null;
    if (v !== null && typeof v === "object" && typeof v.token === "string") out[name] = { token: v.token };
    else if (v !== null && typeof v === "object" && typeof v.username === "string" && typeof v.password === "string") {
      out[name] = { username: v.username, password: v.password };
    } else {
      throw new ValidationError(`credentials file ${path}: entry "${name}" must be {token} or {username, password}`, [], { where: path });
    }
  }
  return out;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

/** The Authorization header for a catalog, bound to its origin; undefined for public and file catalogs. */
export async function authForCatalog(source: CatalogSource): Promise<OriginAuth | undefined> {
  const url = new URL(source.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  const origin = url.origin;
  if (source.auth !== undefined) {
    const envName = source.auth.type === "bearer" ? source.auth.tokenEnv : source.auth.passwordEnv;
    const secret = process.env[envName];
    if (secret === undefined || secret === "") {
      throw new UsageError(`catalog "${source.name}" needs credentials but the environment variable ${envName} is not set`, {
        where: `catalog ${source.name}`,
        hint: `export ${envName}=... before running pk3s`,
      });
    }
    return { origin, authorization: source.auth.type === "bearer" ? `Bearer ${secret}` : basic(source.auth.username, secret) };
  }
  const file = await readCredentialsFile();
  const cred = file?.[source.name];
  if (cred === undefined) return undefined;
  return { origin, authorization: "token" in cred ? `Bearer ${cred.token}` : basic(cred.username, cred.password) };
}
