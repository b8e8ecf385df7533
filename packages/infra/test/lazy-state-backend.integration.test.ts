/**
 * Start-up never pays for the PostgreSQL state backend: in the bundled CLIs,
 * the `pg` driver and the backend are reachable only through dynamic
 * `import()` (loaded when PK3S_STATE_BACKEND / --state-backend names a
 * postgres:// URL), never from the entry file's static imports.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers.js";

/** Files the entry loads before its first line runs: its static imports, transitively. */
async function staticGraph(entry: string): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    const text = await readFile(file, "utf8");
    seen.set(file, text);
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\bfrom\s*"(\.[^"]+)"|^import\s*"(\.[^"]+)"/gms)) {
      const spec = m[1] ?? m[2];
      if (spec !== undefined) queue.push(resolve(dirname(file), spec));
    }
  }
  return seen;
}

const PG_DRIVER = /node_modules\/\.pnpm\/pg(-pool|-protocol|-connection-string)?@/;

describe("the PostgreSQL state backend is loaded lazily", () => {
  for (const bin of ["infra/dist/cli/productive-k3s-infra.js", "core/dist/cli/productive-k3s-core.js"]) {
    it(`${bin}: neither pg nor the backend is in the start-up import graph`, async () => {
      const graph = await staticGraph(join(repoRoot, "packages", bin));
      expect(graph.size).toBeGreaterThan(1);
      for (const [file, text] of graph) {
        expect(PG_DRIVER.test(text), `${file} bundles the pg driver`).toBe(false);
        expect(text.includes("pg_try_advisory_lock"), `${file} holds the PostgreSQL backend`).toBe(false);
      }
    });
  }
});
