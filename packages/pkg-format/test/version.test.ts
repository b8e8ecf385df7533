/**
 * packageRoot/packageVersion walk up to the nearest package.json with a name: the same answer from tsc's
 * dist/<dir>/ modules and from the bundled dist/cli/ entry and its chunks one level deeper.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { packageRoot, packageVersion } from "../src/host/version.js";

describe("packageRoot", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "pk3s-version-"));
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: "@productive-k3s/cli", version: "1.2.3" }));
    mkdirSync(join(root, "dist", "cli", "chunks"), { recursive: true });
    // A nameless package.json (a "type": "module" marker, say) is not the package's root.
    writeFileSync(join(root, "dist", "package.json"), JSON.stringify({ type: "module" }));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it.each([["dist/catalog/catalog-config.js"], ["dist/cli/pk3s.js"], ["dist/cli/chunks/chunk-ABC.js"]])("from %s", (rel) => {
    const url = pathToFileURL(join(root, rel)).href;
    expect(packageRoot(url)?.dir).toBe(root);
    expect(packageVersion(url)).toBe("1.2.3");
  });

  it("is undefined / 0.0.0 outside any named package", () => {
    const url = pathToFileURL(join(tmpdir(), "nowhere-pk3s", "x.js")).href;
    expect(packageRoot(url)).toBeUndefined();
    expect(packageVersion(url)).toBe("0.0.0");
  });
});
