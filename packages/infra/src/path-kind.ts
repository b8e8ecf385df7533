/** Whether a path is a regular file / a directory (false when it does not exist or cannot be read). */
import { stat } from "node:fs/promises";

export async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

export async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
