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
      ["pk3s", ["profile", "validate", "examples/hello-lab", "--env-file", missing]],
    ] as const) {
      const r = run(bin, args, { env: userEnv(), cwd: work });
      expect(r.stderr, bin).not.toContain("node: ");
      expect([2, 3], `${bin}: ${r.code} ${r.stderr}`).toContain(r.code);
    }
  });

  it("starts with the public catalog and the examples shipped inside pk3s: search works offline, with a warning", () => {
    // No network wanted (nor assumed): the public catalog's host is reached through a proxy that refuses.
    const env: NodeJS.ProcessEnv = {
      ...userEnv(),
      PK3S_CACHE_DIR: join(work, "cache-fresh"),
      HTTPS_PROXY: "http://127.0.0.1:9",
      PK3S_HTTP_RETRIES: "1",
    };
    delete env.PK3S_DEFAULT_CATALOG;
    delete env.NO_PROXY;
    delete env.no_proxy;
    const list = run("pk3s", ["catalog", "list", "--json"], { env, cwd: work });
    expect(list.code, list.stderr).toBe(0);
    const catalogs = (JSON.parse(list.stdout) as { catalogs: { name: string; url: string; origin: string }[] }).catalogs;
    expect(catalogs.map((c) => [c.name, c.origin])).toEqual([
      ["productive-k3s", "built-in"],
      ["examples", "built-in"],
    ]);
    expect(catalogs[0]?.url).toBe("https://catalogs.productive-k3s.io/catalogs/index.yaml");
    expect(catalogs[1]?.url).toContain(join("node_modules", "@productive-k3s", "cli", "examples", "index.yaml"));
    const search = run("pk3s", ["search"], { env, cwd: work });
    expect(search.code, search.stderr).toBe(0);
    for (const name of ["hello-config", "hello-lab", "hello-web"]) expect(search.stdout).toMatch(new RegExp(`^${name} .* examples `, "m"));
    expect(search.stderr).toContain('warning: catalog "productive-k3s" could not be read and is left out of the results');
    const show = run("pk3s", ["addon", "show", "examples/hello-web"], { env, cwd: work });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("dependencies: hello-config@>=1.0.0 <2");
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
    const cli = listTarball(tarballs.pk3s ?? "");
    expect(cli).toEqual(
      expect.arrayContaining([
        "package/examples/index.yaml",
        "package/examples/packages/hello-config-1.0.0.tgz",
        "package/examples/packages/hello-web-1.0.0.tgz",
        "package/examples/packages/hello-lab-1.0.0.tgz",
      ]),
    );
    expect(cli.filter((f) => f.startsWith("package/examples-src/"))).toEqual([]);
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
