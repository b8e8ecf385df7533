/**
 * Registry credentials, in docker's own `config.json` format (`{"auths": {"HOST": {"auth": base64(user:pass)}}}`):
 *
 * 1. `<configDir>/registry-auth.json`, written by `pk3s registry login` (0600; refused when others may read it);
 * 2. the user's existing docker configuration, `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`
 *    (`auths` entries with `auth`, or `username` + `password`; credential helpers are not run).
 *
 * A credential belongs to one `host[:port]` and is only ever sent there (and to the token service that
 * registry names in its challenge); the registry client enforces that.
 */
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { configDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import { z } from "zod";

export interface RegistryCredential {
  username: string;
  password: string;
  /** The file it came from (for messages; never the secret). */
  source: string;
}

const AuthEntry = z.object({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
});

/** Docker's config.json: only `auths` is read; everything else in it is left alone. */
const DockerConfig = z.object({ auths: z.record(z.string(), AuthEntry).optional() });

/** pk3s's own login file: the same shape, written by pk3s only. */
const LoginFile = z.strictObject({ auths: z.record(z.string(), z.strictObject({ auth: z.string() })) });
type LoginFile = z.infer<typeof LoginFile>;

export function loginFile(): string {
  return join(configDir(), "registry-auth.json");
}

export function dockerConfigFile(): string {
  const dir = process.env.DOCKER_CONFIG;
  return join(dir !== undefined && dir !== "" ? dir : join(homedir(), ".docker"), "config.json");
}

/** `https://host:5000/v1/` (docker's historical keys), `host:5000` → `host:5000`. */
export function registryKey(key: string): string {
  return key
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
}

function invalid(file: string, message: string, path?: string): ValidationError {
  return new ValidationError(`invalid registry credentials file ${file}`, [{ file, path, message, severity: "error" }], {
    where: file,
  });
}

async function readDocument<T>(file: string, schema: z.ZodType<T>, mustBePrivate: boolean): Promise<T | undefined> {
  if (mustBePrivate) {
    try {
      const mode = (await stat(file)).mode;
      if ((mode & 0o077) !== 0) {
        throw new ValidationError(`refusing to read ${file}: its mode is ${(mode & 0o777).toString(8)}, readable by others`, [], {
          where: file,
          hint: `chmod 600 ${file}`,
        });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }
  let raw: unknown;
  try {
    raw = await readJsonFile<unknown>(file);
  } catch (err) {
    throw invalid(file, `not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (raw === undefined) return undefined;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(file, issue?.message ?? "unexpected content", issue?.path.join("."));
  }
  return parsed.data;
}

function decodeAuth(auth: string, file: string, key: string): { username: string; password: string } {
  const decoded = Buffer.from(auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw invalid(file, "expected base64 of user:password", `auths.${key}.auth`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function fromEntries(
  auths: Record<string, z.infer<typeof AuthEntry>> | undefined,
  registry: string,
  file: string,
): RegistryCredential | undefined {
  for (const [key, entry] of Object.entries(auths ?? {})) {
    if (registryKey(key) !== registry) continue;
    if (entry.auth !== undefined && entry.auth !== "") return { ...decodeAuth(entry.auth, file, key), source: file };
    if (entry.username !== undefined && entry.password !== undefined) {
      return { username: entry.username, password: entry.password, source: file };
    }
  }
  return undefined;
}

/** The credential for `registry` (`host[:port]`): pk3s's login file first, then docker's configuration. */
export async function findCredential(registry: string): Promise<RegistryCredential | undefined> {
  const own = await readDocument(loginFile(), LoginFile, true);
  const mine = fromEntries(own?.auths, registry, loginFile());
  if (mine !== undefined) return mine;
  const docker = await readDocument(dockerConfigFile(), DockerConfig, false);
  return fromEntries(docker?.auths, registry, dockerConfigFile());
}

/** Store a login (replacing any for the same registry); the file is written 0600, atomically. */
export async function saveLogin(registry: string, username: string, password: string): Promise<string> {
  const file = loginFile();
  const doc: LoginFile = (await readDocument(file, LoginFile, true)) ?? { auths: {} };
  for (const key of Object.keys(doc.auths)) if (registryKey(key) === registry) delete doc.auths[key];
  doc.auths[registry] = { auth: Buffer.from(`${username}:${password}`, "utf8").toString("base64") };
  await ensurePrivateDir(configDir());
  await writeJsonAtomic(file, doc, { mode: 0o600 });
  return file;
}

/** Forget the login for `registry`; false when there was none. */
export async function removeLogin(registry: string): Promise<boolean> {
  const file = loginFile();
  const doc = await readDocument(file, LoginFile, true);
  if (doc === undefined) return false;
  const keys = Object.keys(doc.auths).filter((k) => registryKey(k) === registry);
  if (keys.length === 0) return false;
  for (const key of keys) delete doc.auths[key];
  await writeJsonAtomic(file, doc, { mode: 0o600 });
  return true;
}

/** The registries pk3s has logins for, with their user names. */
export async function listLogins(): Promise<{ registry: string; username: string }[]> {
  const file = loginFile();
  const doc = await readDocument(file, LoginFile, true);
  return Object.entries(doc?.auths ?? {}).map(([key, entry]) => ({
    registry: registryKey(key),
    username: decodeAuth(entry.auth, file, key).username,
  }));
}
