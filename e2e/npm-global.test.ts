/**
 * Issue #6: the packages as npm publishes them. `pnpm pack` each workspace
 * package (workspace:* becomes the real version), `npm install -g` the four
 * tarballs into a throw-away prefix, and use the installed binaries the way a
 * user would: from PATH, with nothing from this checkout.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, run } from "./helpers.js";

const PACKAGES = ["pkg-format", "core", "infra", "pk3s"] as const;
const NPX_PNPM = ["-y", "pnpm@10.34.8"];
let work: string;
let prefix: string;
const tarballs: Record<string, string> = {};

function listTarball(file: string): string[] {
  const r = run("tar", ["-tzf", file]);
  expect(r.code).toBe(0);
  return r.stdout.trim().split("\n");
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "pk3s-npm-"));
  prefix = join(work, "prefix");
  for (const p of PACKAGES) {
    const r = run("npx", [...NPX_PNPM, "pack", "--pack-destination", work], { cwd: join(REPO, "packages", p) });
    expect(r.code, r.stderr).toBe(0);
    const file = r.stdout.trim().split("\n").pop() ?? "";
    tarballs[p] = file.startsWith("/") ? file : join(work, file);
  }
  const install = run("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", ...Object.values(tarballs)], {
    timeout: 300_000,
  });
  expect(install.code, install.stderr).toBe(0);
}, 400_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function userEnv(): NodeJS.ProcessEnv {
  // PATH holds the new prefix and the system, not this checkout's node_modules/.bin.
  const path = [join(prefix, "bin"), ...(process.env.PATH ?? "").split(":").filter((d) => !d.includes("node_modules"))].join(":");
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: path, PK3S_STATE_DIR: join(work, "state"), PK3S_CONFIG_DIR: join(work, "cfg") };
  delete env.PK3S_CORE_BIN;
  delete env.PK3S_INFRA_BIN;
  return env;
}

describe("npm install -g of the packed packages", () => {
  it("puts the three binaries on PATH", () => {
    for (const bin of ["pk3s", "productive-k3s-core", "productive-k3s-infra"]) {
      const r = run(bin, ["--version"], { env: userEnv(), cwd: work });
      expect(r.code, `${bin}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/0\.1\.0/);
    }
  });

  it("pk3s --version prints all three versions and finds the runtimes it was installed with", () => {
    const r = run("pk3s", ["--version"], { env: userEnv(), cwd: work });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pk3s 0\.1\.0$/m);
    expect(r.stdout).toMatch(/^productive-k3s-core 0\.1\.0 .*@productive-k3s\/(core|cli)/m);
    expect(r.stdout).toMatch(/^productive-k3s-infra 0\.1\.0 .*@productive-k3s\/(infra|cli)/m);
  });

  it("our --env-file is ours: a missing file is our not-found error, not Node 20's exit 9", () => {
    const missing = join(work, "no-such.env");
    for (const [bin, args] of [
      ["productive-k3s-infra", ["profile", "validate", "--tgz", join(work, "none.tgz"), "--env-file", missing]],
      ["pk3s", ["profile", "validate", "local-lab", "--env-file", missing]],
    ] as const) {
      const r = run(bin, args, { env: userEnv(), cwd: work });
      expect(r.stderr, bin).not.toContain("node: ");
      expect([2, 3], `${bin}: ${r.code} ${r.stderr}`).toContain(r.code);
    }
  });

  it("ships only what the packages need", () => {
    for (const p of PACKAGES) {
      const files = listTarball(tarballs[p] ?? "");
      expect(files).toContain("package/package.json");
      expect(files.some((f) => f.startsWith("package/dist/"))).toBe(true);
      for (const f of files) {
        expect(f, `${p} ships ${f}`).not.toMatch(/^package\/(src|test|node_modules)\/|\.test\.|\.tsbuildinfo$|\.map$/);
      }
    }
    const pf = listTarball(tarballs["pkg-format"] ?? "");
    expect(pf).toEqual(expect.arrayContaining(["package/schemas/addon.schema.json", "package/schemas/profile.schema.json"]));
  });

  it("has correct engines, type, bin and exports metadata, and passes publint", () => {
    for (const p of PACKAGES) {
      const manifest = JSON.parse(run("tar", ["-xzOf", tarballs[p] ?? "", "package/package.json"]).stdout) as Record<string, unknown>;
      expect(manifest.type).toBe("module");
      expect(manifest.engines).toEqual({ node: ">=20.19" });
      expect(JSON.stringify(manifest.dependencies ?? {})).not.toContain("workspace:");
      const lint = run("npx", ["publint", "run", "--strict", tarballs[p] ?? ""], { cwd: REPO });
      expect(lint.code, `${p}: ${lint.stdout}${lint.stderr}`).toBe(0);
    }
  });
});
