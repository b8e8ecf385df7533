/**
 * `pk3s registry login|logout|set|list`: credentials (`registry-credentials.ts`, docker's format, 0600)
 * and connection settings (`registry-settings.ts`) per registry host.
 *
 * Login checks the credential against the registry before saving it (as `docker login` does), so a typo
 * is reported now; the password comes from stdin only (never argv, never echoed or logged).
 */
import { resolve } from "node:path";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { parseRegistryHost } from "../oci/reference.js";
import { dockerConfigFile, listLogins, loginFile, removeLogin, saveLogin } from "../oci/registry-credentials.js";
import {
  loadRegistrySettings,
  type RegistryEntry,
  type RegistryFlags,
  readCaFile,
  saveRegistrySettings,
} from "../oci/registry-settings.js";
import { withSession } from "./session.js";

/** stdin to its end, without the one line break a shell or `echo` adds. */
export async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  const password = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (password === "")
    throw new UsageError("--password-stdin read an empty password", {
      hint: 'e.g. printf %s "$TOKEN" | pk3s registry login HOST --username U --password-stdin',
    });
  return password;
}

export interface LoginInput extends RegistryFlags {
  registry: string;
  username: string;
  password: string;
}

export interface LoginResult {
  registry: string;
  username: string;
  file: string;
  /** verified: the registry accepted the credential; not-required: it asks for none (saved anyway). */
  check: "verified" | "not-required";
}

export async function login(input: LoginInput): Promise<LoginResult> {
  const registry = parseRegistryHost(input.registry);
  if (input.username === "" || input.username.includes(":")) {
    throw new UsageError("--username must be a non-empty user name without ':'", { where: "--username" });
  }
  const check = await withSession({ registry: { caFile: input.caFile, plainHttp: input.plainHttp } }, async (session) => {
    const registries = await session.transport.registries();
    const client = await registries.withCredential(registry, {
      username: input.username,
      password: input.password,
      source: "--password-stdin",
    });
    return client.verifyLogin();
  });
  const file = await saveLogin(registry, input.username, input.password);
  return { registry, username: input.username, file, check };
}

export async function logout(raw: string): Promise<{ registry: string; removed: boolean; file: string }> {
  const registry = parseRegistryHost(raw);
  return { registry, removed: await removeLogin(registry), file: loginFile() };
}

export interface SetInput {
  registry: string;
  caFile?: string | undefined;
  plainHttp?: boolean | undefined;
  reset?: boolean | undefined;
}

export async function setRegistry(input: SetInput): Promise<{ registry: string; settings: RegistryEntry | null; file: string }> {
  const registry = parseRegistryHost(input.registry);
  if (input.reset === true && (input.caFile !== undefined || input.plainHttp !== undefined)) {
    throw new UsageError("--reset forgets the registry's settings: give it alone");
  }
  if (input.reset !== true && input.caFile === undefined && input.plainHttp === undefined) {
    throw new UsageError("nothing to set", { hint: "pass --ca-file FILE, --plain-http, or --reset" });
  }
  if (input.reset === true) return { registry, settings: null, file: await saveRegistrySettings(registry, undefined) };
  const current = (await loadRegistrySettings())[registry] ?? {};
  const next: RegistryEntry = { ...current };
  if (input.caFile !== undefined) {
    const path = resolve(input.caFile);
    await readCaFile(path, "--ca-file");
    next.caFile = path;
  }
  if (input.plainHttp !== undefined) next.plainHttp = input.plainHttp;
  return { registry, settings: next, file: await saveRegistrySettings(registry, next) };
}

export interface RegistryView {
  registry: string;
  username: string | null;
  caFile: string | null;
  plainHttp: boolean;
}

/** Registries pk3s has a login or settings for (docker's own logins are used too, but not listed). */
export async function listRegistries(): Promise<{ registries: RegistryView[]; loginFile: string; dockerConfig: string }> {
  const settings = await loadRegistrySettings();
  const logins = await listLogins();
  const hosts = [...new Set([...Object.keys(settings), ...logins.map((l) => l.registry)])].sort();
  return {
    registries: hosts.map((registry) => ({
      registry,
      username: logins.find((l) => l.registry === registry)?.username ?? null,
      caFile: settings[registry]?.caFile ?? null,
      plainHttp: settings[registry]?.plainHttp === true,
    })),
    loginFile: loginFile(),
    dockerConfig: dockerConfigFile(),
  };
}
