/**
 * The rules every path inside a package follows, in one place for both sides:
 * the extractor (archive-scan: an archive breaking one is rejected, exit 6)
 * and the packer (pack: a source that would break one is refused, exit 4),
 * so the packer never writes a package the extractor rejects.
 *
 * A path is relative and '/'-separated, has no `..`, no backslash, no NUL or
 * other control character (C0, DEL, C1) and no U+2028/U+2029 (a name must
 * fit on one line of checksums.sha256 and never reach a terminal as a
 * control sequence), segments of at most 255 bytes and at most 4096 bytes in
 * all. Across a package, no two paths may be equal up to letter case or
 * Unicode normalisation (they would land on one file on macOS/Windows, or
 * look the same), and no path may be both a file and a directory.
 */

/** A broken rule: `reason` is the IntegrityError reason, `why` completes "<path> …". */
export interface PathRuleBreak {
  reason: string;
  why: string;
}

/** The first C0 control (NUL included), DEL, C1 control or Unicode line/paragraph separator in `s`. */
function firstControl(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return s[i];
  }
  return undefined;
}

/** A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no byte count. */
const tooLong = (s: string, max: number): boolean => s.length * 3 > max && Buffer.byteLength(s) > max;

function controlName(c: string): string {
  const named: Record<string, string> = {
    "\n": "a newline",
    "\r": "a carriage return",
    "\t": "a tab",
    "\u2028": "U+2028",
    "\u2029": "U+2029",
  };
  return named[c] ?? `the control character U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Check one path as written (an archive entry's name, or a source file's package-relative path) and
 * normalise it (drop "" and "." segments). `isDirectory`: an empty result is the root, allowed only for a directory.
 */
export function checkEntryPath(raw: string, isDirectory: boolean): { path: string } | PathRuleBreak {
  return isPlainPath(raw) ? { path: raw } : checkEntryPathSlowly(raw, isDirectory);
}

/**
 * The common case in one pass over the characters: printable ASCII other than backslash, no leading "/" or
 * drive letter, no "", "." or ".." segment, segments of at most 255 bytes, at most 4096 in all. Such a path
 * breaks no rule and is already normal; anything else goes through every rule below, which words the problem.
 */
export function isPlainPath(raw: string): boolean {
  const n = raw.length;
  if (n === 0 || n > 4096 || raw.charCodeAt(0) === 0x2f || (n > 1 && raw.charCodeAt(1) === 0x3a)) return false;
  let segStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 0x2f : raw.charCodeAt(i);
    if (c === 0x2f) {
      const len = i - segStart;
      if (len === 0 || len > 255) return false;
      if (raw.charCodeAt(segStart) === 0x2e && (len === 1 || (len === 2 && raw.charCodeAt(segStart + 1) === 0x2e))) return false;
      segStart = i + 1;
    } else if (c < 0x20 || c >= 0x7f || c === 0x5c) return false;
  }
  return true;
}

/** Every rule, one at a time: what checkEntryPath applies to a path isPlainPath does not vouch for (and its reference in tests). */
export function checkEntryPathSlowly(raw: string, isDirectory: boolean): { path: string } | PathRuleBreak {
  if (raw.includes("\0")) return { reason: "invalid-path", why: "contains a NUL byte" };
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw)) return { reason: "absolute-path", why: "has an absolute path" };
  if (raw.includes("\\")) return { reason: "invalid-path", why: "contains a backslash" };
  const control = firstControl(raw);
  if (control !== undefined) return { reason: "invalid-path", why: `contains ${controlName(control)}` };
  const parts = raw.split("/");
  // Already normal unless some segment is empty or "." (a leading "./", "a//b", a trailing "/").
  let normal = true;
  for (const s of parts) {
    if (s === "..") return { reason: "path-traversal", why: "contains '..'" };
    if (s === "" || s === ".") normal = false;
  }
  for (const s of parts) if (tooLong(s, 255)) return { reason: "invalid-path", why: "has a name that is too long (over 255 bytes)" };
  if (tooLong(raw, 4096)) return { reason: "invalid-path", why: "has a path that is too long (over 4096 bytes)" };
  const path = normal ? raw : parts.filter((s) => s !== "" && s !== ".").join("/");
  if (path === "" && !isDirectory) return { reason: "invalid-path", why: "has an empty path" };
  return { path };
}

const foldKey = (p: string): string => p.normalize("NFC").toLowerCase();

interface Seen {
  path: string;
  kind: "file" | "dir";
  explicit: boolean;
}

/** The paths of one package so far; `add` says which cross-path rule a new one breaks, if any. */
export class PathRegistry {
  readonly #seen = new Map<string, Seen>();
  /** Exact paths registered as directories: their ancestors are registered too, so re-registering them is a no-op. */
  readonly #dirs = new Set<string>();

  /** Register a normalised path (and its parent directories); a broken rule leaves the registry as it was for that path. */
  add(path: string, kind: "file" | "dir"): PathRuleBreak | undefined {
    const slash = path.lastIndexOf("/");
    if (slash > 0 && !this.#dirs.has(path.slice(0, slash))) {
      const segments = path.split("/");
      for (let i = 1; i < segments.length; i++) {
        const broken = this.#register(segments.slice(0, i).join("/"), "dir", false);
        if (broken !== undefined) return broken;
      }
    }
    return this.#register(path, kind, true);
  }

  #register(path: string, kind: "file" | "dir", explicit: boolean): PathRuleBreak | undefined {
    const key = foldKey(path);
    const prev = this.#seen.get(key);
    if (prev === undefined) {
      this.#seen.set(key, { path, kind, explicit });
      if (kind === "dir") this.#dirs.add(path);
      return undefined;
    }
    if (prev.path !== path) {
      if (prev.path.normalize("NFC") === path.normalize("NFC")) {
        return { reason: "unicode-collision", why: `differs from ${JSON.stringify(prev.path)} only by Unicode normalisation` };
      }
      return { reason: "case-collision", why: `differs from ${JSON.stringify(prev.path)} only by letter case` };
    }
    if (prev.kind !== kind)
      return {
        reason: "path-conflict",
        why: `uses ${JSON.stringify(path)} as a ${kind === "dir" ? "directory" : "file"}, but it is also a ${prev.kind === "dir" ? "directory" : "file"}`,
      };
    if (explicit && prev.explicit) return { reason: "duplicate-entry", why: "appears more than once" };
    if (explicit) prev.explicit = true;
    return undefined;
  }
}
