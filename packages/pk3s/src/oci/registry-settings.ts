/**
 * How pk3s reaches each registry: `<configDir>/registries.json` (written by `pk3s registry set`, 0600)
 * plus the command's own `--ca-file` / `--plain-http`.
 *
 * ```json
 * { "registries": { "registry.internal:5000": { "caFile": "/etc/pki/internal-ca.pem" },
 *                   "lab-registry:5000": { "plainHttp": true } } }
 * ```
 *
 * TLS trusts Node's bundled CAs plus the CA files that apply (the flag's and the registry's). Plain HTTP
 * is used only for `--plain-http`, a registry configured with `plainHttp`, or a loopback registry that
 * does not speak TLS (127.0.0.0/8, ::1, localhost: the bytes never leave the machine).
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { rootCertificates } from "node:tls";
import { readJsonFile, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import { NotFoundError, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { configDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import { z } from "zod";

/** What a command line says about registries (`--ca-file`, `--plain-http`): applies to every registry it reaches. */
export interface RegistryFlags {
  caFile?: string | undefined;
  plainHttp?: boolean | undefined;
}

const RegistryEntry = z.strictObject({
  caFile: z.string().min(1).optional(),
  plainHttp: z.boolean().optional(),
});
export type RegistryEntry = z.infer<typeof RegistryEntry>;

const RegistriesFile = z.strictObject({ registries: z.record(z.string(), RegistryEntry) });
type RegistriesFile = z.infer<typeof RegistriesFile>;

export interface RegistryConnection {
  /** CA certificates to trust (Node's plus the extra ones), or undefined for Node's alone. */
  ca: string[] | undefined;
  /** The extra CA files in use, for messages. */
  caFiles: string[];
  plainHttp: boolean;
}

export function registriesFile(): string {
  return join(configDir(), "registries.json");
}

export async function loadRegistrySettings(): Promise<Record<string, RegistryEntry>> {
  const file = registriesFile();
  let raw: unknown;
  try {
    raw = await readJsonFile<unknown>(file);
  } catch (err) {
    throw new ValidationError(`invalid registry settings in ${file}`, [
      { file, message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}`, severity: "error" },
    ]);
  }
  if (raw === undefined) return {};
  const parsed = RegistriesFile.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(
      `invalid registry settings in ${file}`,
      parsed.error.issues.map((i) => ({ file, path: i.path.join("."), message: i.message, severity: "error" as const })),
      { where: file, hint: "fix or remove the file; `pk3s registry set` rewrites it" },
    );
  }
  return parsed.data.registries;
}

/** Set (or with `entry` undefined, forget) one registry's settings. */
export async function saveRegistrySettings(registry: string, entry: RegistryEntry | undefined): Promise<string> {
  const registries = await loadRegistrySettings();
  if (entry === undefined) delete registries[registry];
  else registries[registry] = entry;
  const doc: RegistriesFile = { registries };
  await ensurePrivateDir(configDir());
  await writeJsonAtomic(registriesFile(), doc, { mode: 0o600 });
  return registriesFile();
}

/** A PEM bundle's certificates, or a usage error naming the file. */
export async function readCaFile(path: string, origin: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new NotFoundError(`CA file not found: ${path} (${origin})`, { where: path });
    }
    throw err;
  }
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) {
    throw new UsageError(`${path} (${origin}) holds no PEM certificate`, {
      where: path,
      hint: "pass the CA certificate that signed the registry's certificate, in PEM (-----BEGIN CERTIFICATE-----)",
    });
  }
  return certs;
}

/** How to connect to `registry`, from the flags and the settings file. */
export async function connectionFor(
  registry: string,
  flags: RegistryFlags,
  settings: Record<string, RegistryEntry>,
): Promise<RegistryConnection> {
  const entry = settings[registry];
  const files: { path: string; origin: string }[] = [];
  if (flags.caFile !== undefined) files.push({ path: resolve(flags.caFile), origin: "--ca-file" });
  if (entry?.caFile !== undefined) files.push({ path: entry.caFile, origin: `${registriesFile()} for ${registry}` });
  const extra: string[] = [];
  for (const f of files) extra.push(...(await readCaFile(f.path, f.origin)));
  return {
    ca: extra.length === 0 ? undefined : [...rootCertificates, ...extra],
    caFiles: files.map((f) => f.path),
    plainHttp: flags.plainHttp === true || entry?.plainHttp === true,
  };
}

/** Keep a command's `--ca-file` (absolute) and `--plain-http` as `registry`'s settings. */
export async function rememberRegistryFlags(registry: string, flags: RegistryFlags): Promise<void> {
  const next: RegistryEntry = { ...(await loadRegistrySettings())[registry] };
  if (flags.caFile !== undefined) next.caFile = resolve(flags.caFile);
  if (flags.plainHttp === true) next.plainHttp = true;
  await saveRegistrySettings(registry, next);
}
