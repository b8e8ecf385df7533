/**
 * Where Productive K3S keeps things on the local machine.
 *
 * XDG base directories on every platform (like kubectl, helm and gh do on
 * Linux), so CI images and laptops behave alike; each has an explicit
 * override for tests and CI. Directories are created 0700 because state can
 * name clusters and hold OpenTofu state.
 */
import { chmod, mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

const APP = "productive-k3s";

function xdg(envVar: string, fallback: string[]): string {
  const fromEnv = process.env[envVar];
  return fromEnv !== undefined && fromEnv !== "" ? join(fromEnv, APP) : join(homedir(), ...fallback, APP);
}

/** Runtime state: install records, instances, run logs. `PK3S_STATE_DIR` overrides. */
export function stateDir(): string {
  return process.env.PK3S_STATE_DIR || xdg("XDG_STATE_HOME", [".local", "state"]);
}

/** Disposable, verified-only cache: packages and catalog indexes. `PK3S_CACHE_DIR` overrides. */
export function cacheDir(): string {
  return process.env.PK3S_CACHE_DIR || xdg("XDG_CACHE_HOME", [".cache"]);
}

/** User configuration: catalog sources. `PK3S_CONFIG_DIR` overrides. */
export function configDir(): string {
  return process.env.PK3S_CONFIG_DIR || xdg("XDG_CONFIG_HOME", [".config"]);
}

/** `mkdir -p` with mode 0700 on the leaf (the mode of existing parents is left alone). */
export async function ensurePrivateDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
  return path;
}
