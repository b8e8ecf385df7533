/**
 * checksums.sha256 at the package root: `<64 hex>  <relative/posix/path>`
 * lines, sorted by path, covering every regular file except itself.
 */
import { IntegrityError } from "../errors.js";
import { unsafeRelativePath } from "../format/patterns.js";
import { compareText } from "../format/text-order.js";
import { isPlainPath } from "./entry-path.js";

export const CHECKSUMS_FILE = "checksums.sha256";

export function formatChecksums(files: ReadonlyMap<string, string>): string {
  return [...files.keys()]
    .filter((p) => p !== CHECKSUMS_FILE)
    .sort(compareText)
    .map((p) => `${files.get(p)}  ${p}\n`)
    .join("");
}

/** `<64 lowercase hex> <space or *><path>`, the path without line terminators (what the pattern's `.` rejects). */
const LINE_HEAD = /^[0-9a-f]{64} [ *]/;
const LINE_BREAK = /[\r\u2028\u2029]/;
const HEX_LEN = 64;

/** LINE_HEAD without a regular expression or a copy of the line: 64 lowercase hex digits, a space, a space or "*". */
function plainHead(text: string, start: number, end: number): boolean {
  if (end - start < HEX_LEN + 2) return false;
  for (let i = start; i < start + HEX_LEN; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  const sep = text.charCodeAt(start + HEX_LEN + 1);
  return text.charCodeAt(start + HEX_LEN) === 0x20 && (sep === 0x20 || sep === 0x2a);
}

/**
 * Parse checksums.sha256; malformed content is an IntegrityError. A line whose head and path pass the quick
 * checks (plainHead, entry-path.ts's isPlainPath: both stricter than the rules) is taken as is; any other line
 * goes through the rules themselves.
 */
export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let start = 0;
  for (let i = 0; start < text.length || i === 0; i++) {
    const nl = text.indexOf("\n", start);
    const end = nl < 0 ? text.length : nl;
    // A final empty line (after the last newline, or an empty file) is not a line.
    if (end === start && nl < 0) break;
    const path = text.slice(start + HEX_LEN + 2, end);
    const plain = plainHead(text, start, end) && isPlainPath(path);
    const line = plain ? "" : text.slice(start, end);
    if (!plain && (!LINE_HEAD.test(line) || path === "" || LINE_BREAK.test(path) || unsafeRelativePath(path) !== undefined)) {
      throw new IntegrityError("checksums-malformed", `${CHECKSUMS_FILE} line ${i + 1} is not "<sha256 hex>  <relative path>"`, {
        entry: CHECKSUMS_FILE,
        hint: "the package is corrupt or was not produced by a Productive K3S packer",
      });
    }
    const normal = path.startsWith("./") ? path.replace(/^(\.\/)+/, "") : path;
    if (out.has(normal)) {
      throw new IntegrityError("checksums-malformed", `${CHECKSUMS_FILE} lists ${normal} twice`, { entry: CHECKSUMS_FILE });
    }
    out.set(normal, text.slice(start, start + HEX_LEN));
    if (nl < 0) break;
    start = nl + 1;
  }
  return out;
}

/**
 * verifyChecksums for a package's files as a list (unique paths, each with its hash): when every file but the
 * checksums file itself is listed with its hash and nothing else is listed, that is all; otherwise the map
 * comparison below finds and words the first problem. A 20,000-file package builds no second map.
 */
export function verifyFileChecksums(listed: ReadonlyMap<string, string>, files: readonly { path: string; hash: string }[]): void {
  let matched = 0;
  for (const f of files) {
    if (f.path === CHECKSUMS_FILE) continue;
    if (listed.get(f.path) !== f.hash) {
      matched = -1;
      break;
    }
    matched++;
  }
  if (matched === listed.size) return;
  verifyChecksums(listed, new Map(files.map((f) => [f.path, f.hash])));
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
  // The first unlisted file in path order (sorting only when there is one).
  const unlisted: string[] = [];
  for (const path of actual.keys()) if (path !== CHECKSUMS_FILE && !listed.has(path)) unlisted.push(path);
  const first = unlisted.sort(compareText)[0];
  if (first !== undefined) {
    throw new IntegrityError("checksum-unlisted-file", `${first} is in the package but not in ${CHECKSUMS_FILE}`, {
      entry: first,
      hint: "the package was modified after it was packed",
    });
  }
}
