/**
 * Crash-safe file writes: a reader sees the old file or the new one, never
 * half of either. Temp file in the same directory (same filesystem), fsync,
 * rename, fsync of the directory so the rename itself survives a power cut.
 */
import { randomBytes } from "node:crypto";
import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { copyFile, type FileHandle, open, readFile, rename, unlink } from "node:fs/promises";
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

/**
 * writeFileAtomic for the interrupt path, where nothing may wait for the event loop (the process exits
 * right after): the same temp file, fsync, rename and directory fsync, synchronously.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, "wx", options.mode ?? 0o600);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(dirname(path));
}

function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    closeSync(fd);
  }
}

/**
 * Copy `source` to `path` atomically (a reader never sees a partial copy): copy to a temp file beside
 * `path`, set its mode (0600 unless told otherwise), fsync, rename, fsync the directory.
 */
export async function copyFileAtomic(source: string, path: string, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await copyFile(source, tmp, constants.COPYFILE_EXCL);
    const handle = await open(tmp, "r+");
    try {
      await handle.chmod(options.mode ?? 0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(path));
}

export async function writeJsonAtomic(path: string, value: unknown, options?: AtomicWriteOptions): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}

/** writeJsonAtomic for the interrupt path (see writeFileAtomicSync). */
export function writeJsonAtomicSync(path: string, value: unknown, options?: AtomicWriteOptions): void {
  writeFileAtomicSync(path, `${JSON.stringify(value, null, 2)}\n`, options);
}

/** The file's UTF-8 text, or `undefined` when it does not exist. Any other error propagates. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Parsed JSON, or `undefined` when the file does not exist. Any other error propagates. */
export async function readJsonFile<T = unknown>(path: string): Promise<T | undefined> {
  const text = await readTextIfExists(path);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}
