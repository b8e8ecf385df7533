/**
 * Crash-safe file writes: a reader sees the old file or the new one, never
 * half of either. Temp file in the same directory (same filesystem), fsync,
 * rename, fsync of the directory so the rename itself survives a power cut.
 */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /** File mode, 0600 unless told otherwise: state and config may name secrets' env vars and clusters. */
  mode?: number;
}

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    await handle.close();
  }
}

/** Fill a fresh temp file beside `path`, fsync it, rename it over `path`, fsync the directory. */
async function replaceAtomic(path: string, options: AtomicWriteOptions, fill: (handle: FileHandle) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(path);
  const handle = await open(tmp, "wx", options.mode ?? 0o600);
  try {
    await fill(handle);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(path));
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await replaceAtomic(path, options, (handle) => handle.writeFile(data));
}

/** Copy `src` to `dest` the same way: `dest` is the old file or the whole copy (streamed, any size). */
export async function copyFileAtomic(src: string, dest: string, options: AtomicWriteOptions = {}): Promise<void> {
  await replaceAtomic(dest, options, async (handle) => {
    for await (const chunk of createReadStream(src)) await handle.writeFile(chunk as Buffer);
  });
}

export async function writeJsonAtomic(path: string, value: unknown, options?: AtomicWriteOptions): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}

/** Parsed JSON, or `undefined` when the file does not exist. Any other error propagates. */
export async function readJsonFile<T = unknown>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}
