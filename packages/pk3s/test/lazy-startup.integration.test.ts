/**
 * Start-up stays lazy (issue 19, item 6): `--version` and `--help` of the three built binaries read the loader's
 * main file and its code cache and nothing else of ours. No lazily loaded chunk, nothing from
 * node_modules (zod, yaml, undici, tar, cli-progress, pg are all behind `import()`), and not Node's own undici
 * (fetch). A preload records every file the process reads or imports (CommonJS and ESM, through a module hook).
 * A warm `pk3s search` (a configured catalog, its index cached) and an `addon pull` of a well-formed package
 * (identity read by the line reader) load neither zod nor the yaml library, and the search no download code.
 * On Node >= 22.1 the loader requires the main file (Node's compile cache) instead of reading its build-time cache.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import module from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { pkg, writeLocalCatalog } from "./helpers/catalogs.js";
import { sandbox } from "./helpers/cli.js";

const packages = resolve(import.meta.dirname, "..", "..");
const BINARIES = [
  ["pk3s", join(packages, "pk3s", "dist", "cli", "pk3s.js")],
  ["productive-k3s-core", join(packages, "core", "dist", "cli", "productive-k3s-core.js")],
  ["productive-k3s-infra", join(packages, "infra", "dist", "cli", "productive-k3s-infra.js")],
] as const;

const dir = mkdtempSync(join(tmpdir(), "pk3s-lazy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ESM hooks (run in the loader thread): every URL resolved is appended to the log. */
const hooks = join(dir, "hooks.mjs");
writeFileSync(
  hooks,
  `import { appendFileSync } from "node:fs";
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(log, "esm " + r.url + "\\n");
  return r;
}
`,
);
/** CommonJS preload: wraps fs reads and require, registers the hooks, and logs Node's internal modules at exit. */
const preload = join(dir, "preload.cjs");
writeFileSync(
  preload,
  `"use strict";
const fs = require("node:fs");
const Module = require("node:module");
const log = process.env.PK3S_LAZY_LOG;
const note = (line) => fs.appendFileSync(log, line + "\\n");
Module.register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log } });
const read = fs.readFileSync;
fs.readFileSync = function (file, ...rest) {
  if (typeof file === "string") note("read " + file);
  return read.call(this, file, ...rest);
};
const load = Module._load;
Module._load = function (request, ...rest) {
  note("require " + request);
  return load.call(this, request, ...rest);
};
process.on("exit", () => note("internal " + process.moduleLoadList.filter((m) => m.includes("undici")).join(",")));
`,
);

function startupLoads(bin: string, flag: string, ...rest: [string[], Record<string, string>] | []): string[] {
  const [more = [], env = {}] = rest;
  const log = join(dir, `log-${Math.random().toString(36).slice(2)}`);
  writeFileSync(log, "");
  const r = spawnSync(process.execPath, ["--require", preload, bin, flag, ...more], {
    encoding: "utf8",
    env: { ...process.env, ...env, PK3S_LAZY_LOG: log, NO_COLOR: "1" },
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

describe("--version and --help load only the start-up files", () => {
  for (const [name, bin] of BINARIES) {
    for (const flag of ["--version", "--help"]) {
      it(`${name} ${flag}`, () => {
        const lines = startupLoads(bin, flag);
        const ours = lines
          .filter((l) => l.startsWith("read ") || l.startsWith("esm file:"))
          .map((l) => l.replace(/^read /, "").replace(/^esm /, ""))
          .filter((f) => f !== pathToFileURL(bin).href && f !== bin && !f.endsWith("package.json"))
          // The harness's own hooks file (Node 22+ resolves it through the hooks it registers).
          .filter((f) => f !== pathToFileURL(hooks).href);
        // The loader reads its main file and (Node 20) that file's code cache, and nothing more of ours.
        const main = bin.replace(/\.js$/, ".main.cjs");
        const nodeCompileCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === "function";
        expect(new Set(ours)).toEqual(new Set(nodeCompileCache ? [main] : [main, bin.replace(/\.js$/, ".main.cache")]));
        for (const l of lines) {
          expect(l, "a module from node_modules at start-up").not.toMatch(/node_modules/);
          expect(l, "a lazily loaded chunk at start-up").not.toMatch(/\/chunks\//);
        }
        // Built-ins required: none of the heavy ones, and Node's own undici (fetch) never loaded.
        const required = lines.filter((l) => l.startsWith("require ")).map((l) => l.slice("require ".length));
        for (const r of required) expect(r, "a built-in outside start-up needs").not.toMatch(/zlib|https?$|undici|worker_threads|crypto/);
        expect(lines.find((l) => l.startsWith("internal "))).toBe("internal ");
      });
    }
  }
});

/** Our JavaScript files the run read or imported. */
function scriptsLoaded(lines: string[]): string[] {
  return lines
    .filter((l) => l.startsWith("read ") || l.startsWith("esm file:"))
    .map((l) => (l.startsWith("read ") ? l.slice(5) : new URL(l.slice(4)).pathname))
    .filter((f) => /\.(c|m)?js$/.test(f));
}

function expectNeitherZodNorYaml(files: string[]): void {
  expect(
    files.some((f) => f.includes("/chunks/")),
    "the command ran through its lazily loaded chunks",
  ).toBe(true);
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    expect(text.includes("$ZodType"), `${f} holds zod`).toBe(false);
    expect(text.includes("YAMLParseError"), `${f} holds the yaml library`).toBe(false);
  }
}

describe("a warm search and a pull load neither zod nor yaml", () => {
  it("pk3s search with a configured, cached catalog (and no download code, no package.json)", async () => {
    const box = sandbox();
    try {
      const index = writeLocalCatalog(join(box.root, "cat"), [pkg("longhorn", "1.0.0"), pkg("traefik", "2.0.0")]);
      expect((await box.run(["catalog", "add", "bench", index])).code).toBe(0);
      expect((await box.run(["search", "longhorn"])).code).toBe(0); // fills the cache
      const lines = startupLoads(BINARIES[0][1], "search", ["longhorn"], box.env);
      const files = scriptsLoaded(lines);
      expectNeitherZodNorYaml(files);
      for (const f of files)
        expect(readFileSync(f, "utf8"), `${f} holds download code`).not.toMatch(/package-binding\.js|download\/download\.js/);
      // The user agent (pk3s's version, from its package.json) is for HTTP requests: none here.
      expect(lines.filter((l) => l.startsWith("read ") && l.endsWith("/pk3s/package.json"))).toEqual([]);
      // The configuration the search read holds the added catalog (the fast check, not zod, accepted it).
      expect(readFileSync(join(box.root, "config", "config.json"), "utf8")).toContain('"bench"');
    } finally {
      box.cleanup();
    }
  });

  it("pk3s addon pull of a well-formed package (identity checked by the line reader)", async () => {
    const box = sandbox();
    try {
      const index = writeLocalCatalog(join(box.root, "cat"), [pkg("longhorn", "1.0.0")]);
      expect((await box.run(["catalog", "add", "bench", index])).code).toBe(0);
      const out = join(box.root, "out");
      const lines = startupLoads(BINARIES[0][1], "addon", ["pull", "longhorn", "--output", out], box.env);
      expectNeitherZodNorYaml(scriptsLoaded(lines));
      expect(readFileSync(join(out, "longhorn-1.0.0.tgz")).length).toBeGreaterThan(0);
    } finally {
      box.cleanup();
    }
  });
});
