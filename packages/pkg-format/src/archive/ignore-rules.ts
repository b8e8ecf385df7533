/**
 * What packing leaves out: built-in excludes plus `.pk3signore` at the
 * package root.
 *
 * `.pk3signore` follows .gitignore syntax: one pattern per line; blank lines
 * and `#` comments are ignored; `!pattern` re-includes; a trailing `/`
 * matches directories only; a pattern with a `/` (other than a trailing one)
 * is anchored to the package root, otherwise it matches a name at any depth;
 * `*` matches within one path segment, `?` one character, `[...]` a class,
 * `**` any number of segments. The last matching pattern wins. As in git, a
 * file inside an excluded directory cannot be re-included.
 *
 * Built-in excludes (can be re-included with `!`, except the last two):
 * .git/ .hg/ .svn/ .DS_Store *~ *.swp .idea/ .vscode/ node_modules/ and
 * always `.pk3signore` itself and the root `checksums.sha256` (regenerated).
 */

export const IGNORE_FILE = ".pk3signore";

export const DEFAULT_IGNORES: readonly string[] = [
  ".git/",
  ".hg/",
  ".svn/",
  ".DS_Store",
  "*~",
  "*.swp",
  ".idea/",
  ".vscode/",
  "node_modules/",
];
const ALWAYS_IGNORED: readonly string[] = [`/${IGNORE_FILE}`, "/checksums.sha256"];

interface Rule {
  negate: boolean;
  dirOnly: boolean;
  regex: RegExp;
}

function globToRegex(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const atStart = i === 0 || glob[i - 1] === "/";
        const next = glob[i + 2];
        if (atStart && next === "/") {
          out += "(?:.*/)?";
          i += 2;
        } else if (atStart && next === undefined) {
          out += ".*";
          i += 1;
        } else {
          out += "[^/]*";
          i += 1;
        }
      } else out += "[^/]*";
    } else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) out += "\\[";
      else {
        let cls = glob.slice(i + 1, close).replace(/\\/g, "\\\\");
        if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        out += `[${cls}]`;
        i = close;
      }
    } else if (c === "\\" && i + 1 < glob.length) {
      out += (glob[i + 1] as string).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      i++;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return out;
}

export function compileRule(line: string): Rule | undefined {
  let p = line.replace(/(?<!\\)\s+$/, "");
  if (p === "" || p.startsWith("#")) return undefined;
  let negate = false;
  if (p.startsWith("!")) {
    negate = true;
    p = p.slice(1);
  } else if (p.startsWith("\\!") || p.startsWith("\\#")) p = p.slice(1);
  let dirOnly = false;
  if (p.endsWith("/")) {
    dirOnly = true;
    p = p.replace(/\/+$/, "");
  }
  if (p === "") return undefined;
  const anchored = p.includes("/");
  p = p.replace(/^\/+/, "");
  const body = globToRegex(p);
  return { negate, dirOnly, regex: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`) };
}

export class IgnoreRules {
  readonly #rules: Rule[];
  readonly #always: Rule[];

  constructor(userPatterns: readonly string[] = [], defaults: readonly string[] = DEFAULT_IGNORES) {
    this.#rules = [...defaults, ...userPatterns].map(compileRule).filter((r): r is Rule => r !== undefined);
    this.#always = ALWAYS_IGNORED.map(compileRule).filter((r): r is Rule => r !== undefined);
  }

  static parse(text: string): IgnoreRules {
    return new IgnoreRules(text.split(/\r?\n/));
  }

  /** `path` is package-relative and '/'-separated. */
  ignores(path: string, isDir: boolean): boolean {
    if (this.#always.some((r) => r.regex.test(path) && (!r.dirOnly || isDir))) return true;
    let ignored = false;
    for (const r of this.#rules) {
      if (r.dirOnly && !isDir) continue;
      if (r.regex.test(path)) ignored = !r.negate;
    }
    return ignored;
  }
}
