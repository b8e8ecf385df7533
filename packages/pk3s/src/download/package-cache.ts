/**
 * Content-addressed package cache: `<cacheDir>/packages/sha256/<hex>.tgz`.
 * Only verified bytes are ever renamed into it, and a cached file is
 * re-hashed before every use (a corrupted or tampered file is evicted).
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { IntegrityError } from "@productive-k3s/pkg-format/errors";
import { cacheDir, ensurePrivateDir } from "@productive-k3s/pkg-format/paths";

const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;

/** The hex of a `sha256:<hex>` digest; anything else is refused. */
export function digestHex(digest: string, label: string): string {
  const m = DIGEST_RE.exec(digest.trim().toLowerCase());
  if (m === null) {
    throw new IntegrityError("bad-digest", `${label}: unsupported digest "${digest}"`, {
      hint: 'catalog digests must look like "sha256:<64 hex digits>"',
    });
  }
  return m[1]!;
}

export function packagesRoot(): string {
  return join(cacheDir(), "packages");
}

export function cachedPathFor(hex: string): string {
  return join(packagesRoot(), "sha256", `${hex}.tgz`);
}

export async function hashFile(path: string): Promise<{ hex: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hex: hash.digest("hex"), size };
}

/** The cached file for `hex` when present and still intact; a damaged copy is removed. */
export async function readVerified(hex: string): Promise<{ path: string; size: number } | undefined> {
  const path = cachedPathFor(hex);
  try {
    await stat(path);
  } catch {
    return undefined;
  }
  const actual = await hashFile(path);
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
