/**
 * Content-addressed package cache: `<cacheDir>/packages/sha256/<hex>.tgz`.
 * Only verified bytes are ever renamed into it, and a cached file is
 * re-hashed before every use (a corrupted or tampered file is evicted).
 */
import { randomBytes } from "node:crypto";
import { rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { sha256FileHex } from "@productive-k3s/pkg-format/digest";
import { cacheDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";

export function packagesRoot(): string {
  return join(cacheDir(), "packages");
}

export function cachedPathFor(hex: string): string {
  return join(packagesRoot(), "sha256", `${hex}.tgz`);
}

/** The cached file for `hex` when present and still intact; a damaged copy is removed. */
export async function readVerified(hex: string): Promise<{ path: string; size: number } | undefined> {
  const path = cachedPathFor(hex);
  try {
    await stat(path);
  } catch {
    return undefined;
  }
  const actual = await sha256FileHex(path);
  if (actual.hex !== hex) {
    await unlink(path).catch(() => undefined);
    return undefined;
  }
  return { path, size: actual.size };
}

/** A fresh temp path on the cache's filesystem (so the final rename is atomic). */
export async function tempPackagePath(): Promise<string> {
  const dir = await ensurePrivateDir(join(packagesRoot(), "tmp"));
  return join(dir, `${process.pid}-${randomBytes(8).toString("hex")}.tgz.partial`);
}

/** Move verified bytes into place. */
export async function commitVerified(tempPath: string, hex: string): Promise<string> {
  await ensurePrivateDir(join(packagesRoot(), "sha256"));
  const final = cachedPathFor(hex);
  await rename(tempPath, final);
  return final;
}
