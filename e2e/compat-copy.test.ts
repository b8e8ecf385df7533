/** fixtures/compat is a copy of ../shared/compat: keep them identical when ../shared is beside the checkout (as in CI). */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { COMPAT_DIR } from "../fixtures/compat-dir.js";
import { REPO } from "./helpers.js";

const SHARED = join(REPO, "..", "shared", "compat");

function files(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out;
}

describe("fixtures/compat", () => {
  it.runIf(existsSync(SHARED))("is identical to ../shared/compat", () => {
    expect(files(COMPAT_DIR)).toEqual(files(SHARED));
    for (const f of files(SHARED)) expect(readFileSync(join(COMPAT_DIR, f), "utf8"), f).toBe(readFileSync(join(SHARED, f), "utf8"));
  });
});
