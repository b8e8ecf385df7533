import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The root of the package a module belongs to and its package.json: the
 * nearest directory above the module with a package.json that has a `name`.
 * Walking up (rather than a fixed `../..`) gives the same answer from src/,
 * from tsc's dist/<dir>/ and from the bundled dist/cli/ and its chunks.
 */
export function packageRoot(moduleUrl: string): { dir: string; manifest: { name: string; version?: unknown } } | undefined {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, "package.json"), "utf8");
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      const manifest = JSON.parse(text) as { name?: unknown; version?: unknown };
      if (typeof manifest.name === "string") return { dir, manifest: { ...manifest, name: manifest.name } };
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** `version` of the package a module belongs to ("0.0.0" when it has none). */
export function packageVersion(moduleUrl: string): string {
  const version = packageRoot(moduleUrl)?.manifest.version;
  return typeof version === "string" ? version : "0.0.0";
}
