/**
 * Paths a package's shell scripts reach outside the package. Core runs the
 * package from `<run>/addons/<name>/`, and provides exactly two files
 * outside it: `<run>/scripts/addon-host-runtime.sh` and
 * `<run>/scripts/runtime-contract.sh` (contract/run-dir.ts). Anything else a
 * script sources or reads through `..` (or under
 * `$PRODUCTIVE_K3S_CORE_REPO_DIR/`) will not be there when Core runs it:
 * `dev addon validate` and `dev addon package` warn about it.
 *
 * A static reading of the text, by design simple: a path is taken relative
 * to the script's folder when it starts with a variable or `$(dirname ...)`
 * (the `SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)` idiom),
 * to the package root when it starts with `$PK3S_ADDON_DIR` or with `..`
 * itself (scripts run from the package root).
 */
import { readdir, readFile } from "node:fs/promises";
import { join, posix, relative, sep } from "node:path";
import type { Problem } from "@productive-k3s/pkg-format/errors";

/** What the run directory provides outside the package, relative to `<run>` (and the folder holding them). */
export const PROVIDED = ["scripts/addon-host-runtime.sh", "scripts/runtime-contract.sh"] as const;
const provided = (p: string): boolean => p === "scripts" || (PROVIDED as readonly string[]).includes(p);

const SKIP_DIRS = new Set([".git", "node_modules", "charts"]);
const PATH_WITH_PARENT = /[^\s"'`()<>|;&]*\.\.\/[^\s"'`()<>|;&]*/g;
const CORE_REPO_PATH = /\$\{?PRODUCTIVE_K3S_CORE_REPO_DIR(?::-[^}]*)?\}?\/([^\s"'`()<>|;&]+)/g;

async function shellScripts(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...(await shellScripts(root, join(dir, e.name))));
    } else if (e.isFile() && e.name.endsWith(".sh")) {
      out.push(relative(root, join(dir, e.name)).split(sep).join("/"));
    }
  }
  return out.sort();
}

/** The path a token names, relative to the package root (may start with `..`). */
function resolveToken(token: string, script: string): string | undefined {
  const at = token.indexOf("../");
  const prefix = token.slice(0, at);
  const suffix = token.slice(at);
  let base: string;
  if (/PK3S_ADDON_DIR\}?\/?$/.test(prefix)) base = ".";
  else if (/\$/.test(prefix) || /dirname/.test(prefix)) base = posix.dirname(script);
  else if (prefix === "" || prefix === "./") base = ".";
  else return undefined; // e.g. `foo/../bar`: inside whatever foo is
  return posix.normalize(posix.join(base, suffix));
}

export async function scriptReferenceWarnings(pkgDir: string, name: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  const warn = (file: string, line: number, message: string): void => {
    problems.push({ file, path: `line ${line}`, message, severity: "warning" });
  };
  for (const script of await shellScripts(pkgDir)) {
    const lines = (await readFile(join(pkgDir, script), "utf8")).split("\n");
    for (const [i, line] of lines.entries()) {
      if (/^\s*#/.test(line)) continue;
      for (const m of line.matchAll(PATH_WITH_PARENT)) {
        const rel = resolveToken(m[0], script);
        if (rel === undefined || !rel.startsWith("../")) continue;
        if (provided(posix.normalize(posix.join("addons", name, rel)).replace(/\/$/, ""))) continue;
        warn(
          script,
          i + 1,
          `${m[0]} is outside the package and the runtime does not provide it (Core provides only ${PROVIDED.map((p) => `../../${p}`).join(" and ")} from the package root)`,
        );
      }
      for (const m of line.matchAll(CORE_REPO_PATH)) {
        if (provided(posix.normalize(m[1] ?? "").replace(/\/$/, ""))) continue;
        warn(script, i + 1, `${m[0]}: Core's runtime provides only ${PROVIDED.join(" and ")} under PRODUCTIVE_K3S_CORE_REPO_DIR`);
      }
    }
  }
  return problems;
}
