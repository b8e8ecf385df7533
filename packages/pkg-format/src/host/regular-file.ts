/**
 * Reading a file that must be a regular file without ever blocking.
 *
 * open(2) of a FIFO blocks until a writer appears, and a read of a device
 * (/dev/zero, a tty) may never end; a source tree, a symbolic link in it or a
 * path on the command line can name either. So every reader here:
 * 1. stat()s the path (following links) and refuses anything but a regular
 *    file without opening it (opening some devices has side effects);
 * 2. opens with O_NONBLOCK | O_NOCTTY, so a FIFO swapped in after the stat
 *    opens at once instead of blocking (a socket fails with ENXIO);
 * 3. fstat()s the descriptor: the type that counts is that of what was opened.
 * A refusal is a ValidationError (exit 4) naming the file. Other fs errors
 * (ENOENT, EACCES) reach the caller unchanged, for its own "not found" text.
 */
import { constants, type Stats } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { ValidationError } from "../errors.js";

/** Flags for opening a file that must never block on open or make a terminal ours. */
export const NON_BLOCKING_READ = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** "a FIFO", "a directory", … for messages. */
export function fileTypeName(st: Stats): string {
  if (st.isFile()) return "a regular file";
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/** The refusal: `[<what> ]<path> is a FIFO (named pipe), not a regular file` (exit 4). */
export function notRegularFileError(path: string, type: string, what?: string): ValidationError {
  const message = `${what === undefined ? "" : `${what} `}${path} is ${type}, not a regular file`;
  return new ValidationError(message, [{ file: path, message: `expected a regular file, found ${type}`, severity: "error" }], {
    where: path,
    hint: "replace it with a regular file",
  });
}

/** Throws notRegularFileError unless `st` is a regular file. */
export function assertRegularFile(st: Stats, path: string, what?: string): void {
  if (!st.isFile()) throw notRegularFileError(path, fileTypeName(st), what);
}

/** Opens `path` for reading, refusing (never blocking on) anything but a regular file. The caller closes the handle. */
export async function openRegularFile(path: string, what?: string): Promise<FileHandle> {
  assertRegularFile(await stat(path), path, what);
  let handle: FileHandle;
  try {
    handle = await open(path, NON_BLOCKING_READ);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENXIO") throw notRegularFileError(path, "a socket", what);
    throw err;
  }
  try {
    assertRegularFile(await handle.stat(), path, what);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

/** The bytes of a regular file; see the module header for what is refused. */
export async function readRegularFile(path: string, what?: string): Promise<Buffer> {
  const handle = await openRegularFile(path, what);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The UTF-8 text of a regular file; see the module header for what is refused. */
export async function readRegularText(path: string, what?: string): Promise<string> {
  return (await readRegularFile(path, what)).toString("utf8");
}
