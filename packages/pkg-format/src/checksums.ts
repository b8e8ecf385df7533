/**
 * checksums.sha256 at the package root: `<64 hex>  <relative/posix/path>`
 * lines, sorted by path, covering every regular file except itself.
 */
import { IntegrityError } from "./errors.js";
import { unsafeRelativePath } from "./schema-common.js";

export const CHECKSUMS_FILE = "checksums.sha256";

export function formatChecksums(files: ReadonlyMap<string, string>): string {
  return [...files.keys()]
    .filter((p) => p !== CHECKSUMS_FILE)
    .sort(comparePaths)
    .map((p) => `${files.get(p)}  ${p}\n`)
    .join("");
}

/** Deterministic path order (by UTF-16 code units, same on every machine). */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parse checksums.sha256; malformed content is an IntegrityError. */
export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (line === "" && i === lines.length - 1) return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    const path = m?.[2];
    if (m === null || path === undefined || unsafeRelativePath(path) !== undefined) {
      throw new IntegrityError("checksums-malformed", `${CHECKSUMS_FILE} line ${i + 1} is not "<sha256 hex>  <relative path>"`, {
        entry: CHECKSUMS_FILE,
        hint: "the package is corrupt or was not produced by a Productive K3S packer",
      });
    }
    const normal = path.replace(/^(\.\/)+/, "");
    if (out.has(normal)) {
      throw new IntegrityError("checksums-malformed", `${CHECKSUMS_FILE} lists ${normal} twice`, { entry: CHECKSUMS_FILE });
    }
    out.set(normal, m[1] as string);
  });
  return out;
}

/** Compare the listed checksums with the actual ones (relative path -> hex). */
export function verifyChecksums(listed: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>): void {
  for (const [path, hex] of listed) {
    const got = actual.get(path);
    if (got === undefined) {
      throw new IntegrityError("checksum-missing-file", `${CHECKSUMS_FILE} lists ${path}, which is not in the package`, {
        entry: path,
        hint: "the package is incomplete or was tampered with",
      });
    }
    if (got !== hex) {
      throw new IntegrityError(
        "checksum-mismatch",
        `checksum mismatch for ${path}: ${CHECKSUMS_FILE} says ${hex}, the file hashes to ${got}`,
        {
          entry: path,
          hint: "the package was modified after it was packed",
        },
      );
    }
  }
  for (const path of [...actual.keys()].sort(comparePaths)) {
    if (path !== CHECKSUMS_FILE && !listed.has(path)) {
      throw new IntegrityError("checksum-unlisted-file", `${path} is in the package but not in ${CHECKSUMS_FILE}`, {
        entry: path,
        hint: "the package was modified after it was packed",
      });
    }
  }
}
