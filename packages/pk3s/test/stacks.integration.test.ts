/**
 * Stacks end to end: pk3s with the real productive-k3s-core (behind a wrapper
 * that records its argv) and the stub cluster tools of fixtures/bin, against
 * local and loopback HTTP catalogs: plan, install in dependency order in one
 * Core run, partial failure, idempotent re-install, a pinned upgrade, lock
 * files (--frozen, --update, fetching by digest), drift, prune, uninstall, and
 * a published-style v1alpha1 catalog with a stack entry.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { packPackage } from "@productive-k3s/pkg-format/pack";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { startServer, type TestServer } from "./helpers/http-server.js";
import { writeAddonSource } from "./helpers/sources.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const CORE = join(REPO, "packages/core/dist/cli/productive-k3s-core.js");
const KUBECONFIG = join(REPO, "fixtures/kubeconfig/k3s.yaml");
const STUB_BIN = join(REPO, "fixtures/bin");
const available = existsSync(CORE) && existsSync(join(STUB_BIN, "kubectl"));

let sb: Sandbox;
let env: Record<string, string>;
let repo: string;
let src: string;
let coreLog: string;

/** A Core that logs its argv (JSON, one line per run) and then is the real one. */
function coreWrapper(dir: string, log: string): string {
  const file = join(dir, "core-logger.cjs");
  writeFileSync(
    file,
    `#!${process.execPath}
const { appendFileSync } = require("node:fs");
const { spawnSync } = require("node:child_process");
appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + "\\n");
const r = spawnSync(process.execPath, ["--", ${JSON.stringify(CORE)}, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(r.status === null ? 1 : r.status);
`,
  );
  chmodSync(file, 0o755);
  return file;
}

function coreRuns(): string[][] {
  if (!existsSync(coreLog)) return [];
  return readFileSync(coreLog, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as string[]);
}

/** kubectl `version -o json` calls: one per cluster probe. */
function probes(): number {
  const log = env.PK3S_STUB_LOG!;
  if (!existsSync(log)) return 0;
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l.includes('"version","-o","json"')).length;
}

async function addon(name: string, version: string, deps: string[] = [], install = "echo install"): Promise<void> {
  const dir = await writeAddonSource(join(src, `${name}-${version}`), name, version, deps);
  writeFileSync(join(dir, "scripts", "install.sh"), `#!/bin/sh\n${install}\n`, { mode: 0o755 });
  await packPackage(dir, repo);
}

function writeStack(dir: string, addons: unknown[], extra: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "stack.yaml");
  writeFileSync(
    file,
    stringify({
      apiVersion: "addons.productive-k3s.io/v1",
      kind: "Stack",
      metadata: { name: "platform", version: "1.0.0" },
      spec: { addons, ...extra },
    }),
  );
  return file;
}

const kube = ["--kubeconfig", KUBECONFIG];

async function index(): Promise<void> {
  expect((await sb.run(["catalog", "index", repo])).code).toBe(0);
}

beforeEach(async () => {
  sb = sandbox();
  coreLog = join(sb.root, "core.jsonl");
  env = {
    PATH: `${STUB_BIN}${delimiter}${process.env.PATH ?? ""}`,
    PK3S_STUB_LOG: join(sb.root, "tools.jsonl"),
    PK3S_CORE_BIN: coreWrapper(sb.root, coreLog),
  };
  repo = join(sb.root, "repo");
  src = join(sb.root, "src");
  mkdirSync(repo);
  await addon("base", "1.0.0");
  await addon("app", "1.0.0", ["{name: base, version: ^1}"]);
  await addon("app", "1.1.0", ["{name: base, version: ^1}"]);
  await addon("extra", "0.1.0");
  await index();
  expect((await sb.run(["catalog", "add", "local", repo])).code).toBe(0);
});
afterEach(() => sb.cleanup());

describe.skipIf(!available)("stacks from a local catalog", () => {
  it("plans per add-on, then installs in dependency order in one Core run (one probe), with each add-on's own values", async () => {
    const dir = join(sb.root, "stack");
    writeFileSync(join(sb.root, "app-values.yaml"), "replicas: 2\n");
    mkdirSync(dir);
    writeFileSync(join(dir, "app.yaml"), "replicas: 3\n");
    const file = writeStack(dir, [{ name: "app", version: "1.0.0", values: ["app.yaml"], set: ["password=s3cret"] }, "extra"]);

    const plan = await sb.run(["stack", "plan", file, ...kube], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toBe(
      [
        `Plan for stack platform 1.0.0 (${file}) on https://127.0.0.1:6443:`,
        `lock: none (pk3s lock writes ${file}.lock)`,
        "  install    base 1.0.0   [local] (dependency)",
        "  install    app 1.0.0    [local]",
        "  install    extra 0.1.0  [local]",
        "3 install, 0 upgrade, 0 unchanged, 0 not in stack",
        "",
      ].join("\n"),
    );
    expect(probes()).toBe(1);

    const before = coreRuns().length;
    const r = await sb.run(["stack", "install", file, ...kube, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.addons.map((a: { name: string; outcome: string }) => `${a.name}:${a.outcome}`)).toEqual([
      "base:installed",
      "app:installed",
      "extra:installed",
    ]);
    // One `addon install` for the whole stack, dependencies first, the last package as --tgz.
    const installs = coreRuns()
      .slice(before)
      .filter((a) => a[0] === "addon" && a[1] === "install");
    expect(installs).toHaveLength(1);
    const argv = installs[0]!;
    const digestOf = (f: string): string =>
      createHash("sha256")
        .update(readFileSync(join(repo, f)))
        .digest("hex");
    const pkgs = argv.flatMap((a, i) => (a === "--tgz" || a === "--dependency-tgz" ? [`${a} ${argv[i + 1]?.split("/").pop()}`] : []));
    expect(pkgs).toEqual([
      `--tgz ${digestOf("extra-0.1.0.tgz")}.tgz`,
      `--dependency-tgz ${digestOf("base-1.0.0.tgz")}.tgz`,
      `--dependency-tgz ${digestOf("app-1.0.0.tgz")}.tgz`,
    ]);
    expect(argv).toEqual(expect.arrayContaining(["--stack", "platform", "--json"]));
    expect(argv).not.toContain("--stack-lock-digest"); // no lock yet
    // The --set value travels in a 0600 file that is gone after the run, never on a command line.
    expect(argv.join(" ")).not.toContain("s3cret");
    const options = argv[argv.indexOf("--package-options") + 1]!;
    expect(existsSync(options)).toBe(false);
    expect(probes()).toBe(2);

    const list = JSON.parse((await sb.run(["stack", "status", file, ...kube, "--json"], env)).stdout);
    expect(list.addons.map((a: { name: string; state: string; installedBy: string }) => `${a.name}:${a.state}:${a.installedBy}`)).toEqual([
      "app:ok:platform",
      "extra:ok:platform",
    ]);
  });

  it("re-installs idempotently (everything unchanged) and upgrades only the add-on whose pin moved", async () => {
    const file = writeStack(join(sb.root, "stack"), [{ name: "app", version: "1.0.0" }, "extra"]);
    expect((await sb.run(["lock", file], env)).code).toBe(0);
    const lock = parse(readFileSync(`${file}.lock`, "utf8"));
    expect(lock.packages.map((p: { name: string; version: string }) => `${p.name}@${p.version}`)).toEqual([
      "app@1.0.0",
      "base@1.0.0",
      "extra@0.1.0",
    ]);
    expect((await sb.run(["stack", "install", file, ...kube, "--frozen"], env)).code).toBe(0);

    const again = await sb.run(["stack", "install", file, ...kube, "--frozen"], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("0 installed or upgraded, 3 unchanged");
    expect(again.stdout).toMatch(/unchanged {5}base 1\.0\.0/);

    // The stack moves app to 1.1.0: the lock is stale, --frozen refuses (exit 4) and nothing runs.
    writeStack(join(sb.root, "stack"), [{ name: "app", version: "1.1.0" }, "extra"]);
    const runs = coreRuns().length;
    const frozen = await sb.run(["stack", "install", file, ...kube, "--frozen"], env);
    expect(frozen.code).toBe(4);
    expect(frozen.stderr).toContain(`${file}.lock no longer matches ${file}`);
    expect(frozen.stderr).toContain("app: the stack asks for 1.1.0, the lock has 1.0.0");
    expect(coreRuns().length).toBe(runs);
    const ci = await sb.run(["lock", file, "--frozen"], env);
    expect(ci.code).toBe(4);

    const plan = await sb.run(["stack", "plan", file, ...kube], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("  unchanged  base 1.0.0   [local] (dependency)");
    expect(plan.stdout).toMatch(/ {2}upgrade {4}app 1\.1\.0 {4}\[local\] \(from 1\.0\.0\): app 1\.0\.0 is installed; upgrading to 1\.1\.0/);
    expect(plan.stdout).toContain("  unchanged  extra 0.1.0  [local]");

    const relock = await sb.run(["lock", file], env);
    expect(relock.code).toBe(0);
    expect(relock.stdout).toContain("~ app 1.0.0 -> 1.1.0");
    const up = await sb.run(["stack", "install", file, ...kube, "--frozen", "--json"], env);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout).addons.map((a: { name: string; outcome: string }) => `${a.name}:${a.outcome}`)).toEqual([
      "base:unchanged",
      "app:upgraded",
      "extra:unchanged",
    ]);
  });

  it("a broken stack file is exit 4 naming the file, line and field; a missing one is exit 3; nothing runs, no stack trace", async () => {
    const file = writeStack(join(sb.root, "stack"), ["app", { name: "extra", namespace: "Bad_NS" }]);
    for (const verb of ["plan", "install"]) {
      const r = await sb.run(["stack", verb, file, ...kube], env);
      expect(r.code, verb).toBe(4);
      expect(r.stderr).toContain(`error: ${file}:10:18: spec.addons[1].namespace: expected a namespace`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await sb.run(["lock", file], env)).code).toBe(4);
    expect(existsSync(`${file}.lock`)).toBe(false);
    const missing = await sb.run(["stack", "plan", join(sb.root, "nowhere", "stack.yaml"), ...kube], env);
    expect(missing.code).toBe(3);
    expect(coreRuns()).toEqual([]);
  });

  it("resolves across catalogs: an add-on from one, its dependency from another, each pinned to its catalog in the lock", async () => {
    const other = join(sb.root, "other");
    mkdirSync(other);
    await packPackage(await writeAddonSource(join(src, "tools"), "tools", "1.0.0", ["{name: base, version: ^1}"]), other);
    expect((await sb.run(["catalog", "index", other])).code).toBe(0);
    expect((await sb.run(["catalog", "add", "other", other])).code).toBe(0);
    const file = writeStack(join(sb.root, "stack"), ["tools"]);
    const plan = await sb.run(["stack", "plan", file, ...kube], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("  install    base 1.0.0   [local] (dependency)\n  install    tools 1.0.0  [other]\n");
    expect((await sb.run(["lock", file], env)).code).toBe(0);
    const lock = parse(readFileSync(`${file}.lock`, "utf8"));
    expect(lock.packages.map((p: { name: string; catalog: string }) => `${p.catalog}/${p.name}`)).toEqual(["local/base", "other/tools"]);
  });

  it("stops at the first failure and says what ran, what failed and what was not attempted", async () => {
    await addon("broken", "1.0.0", [], "echo failing >&2; exit 3");
    await index();
    const file = writeStack(join(sb.root, "stack"), ["app", "broken", "extra"]);
    const r = await sb.run(["stack", "install", file, ...kube], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("  installed     base 1.0.0    [local] (dependency)");
    expect(r.stdout).toContain("  failed        broken 1.0.0  [local]");
    expect(r.stdout).toContain("  not attempted extra 0.1.0   [local]");
    expect(r.stdout).toContain("ran: base, app\nfailed: broken\nnot attempted: extra\n");

    // Again: base and app are left as they are, broken fails again.
    const again = JSON.parse((await sb.run(["stack", "install", file, ...kube, "--json"], env)).stdout);
    expect(again.addons.map((a: { name: string; outcome: string }) => `${a.name}:${a.outcome}`)).toEqual([
      "base:unchanged",
      "app:unchanged",
      "broken:failed",
      "extra:not attempted",
    ]);
    expect(again.error).toMatch(/^broken 1\.0\.0: /);
  });

  it("a lock holds each package exactly; install uses a matching lock without --frozen; --update alone refreshes every pin", async () => {
    const file = writeStack(join(sb.root, "stack"), ["app"]);
    const w = await sb.run(["lock", file], env);
    expect(w.code, w.stderr).toBe(0);
    const text = readFileSync(`${file}.lock`, "utf8");
    const pinned = (f: string) => {
      const bytes = readFileSync(join(repo, f));
      return {
        url: pathToFileURL(join(repo, f)).href,
        digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
        size: bytes.length,
      };
    };
    expect(text.startsWith("# Written by `pk3s lock`")).toBe(true);
    expect(parse(text)).toEqual({
      apiVersion: "addons.productive-k3s.io/v1",
      kind: "StackLock",
      stack: { name: "platform", version: "1.0.0" },
      packages: [
        {
          name: "app",
          type: "addon",
          version: "1.1.0",
          catalog: "local",
          ...pinned("app-1.1.0.tgz"),
          dependencies: [{ name: "base", version: "^1" }],
        },
        { name: "base", type: "addon", version: "1.0.0", catalog: "local", ...pinned("base-1.0.0.tgz") },
      ],
    });
    // The same resolution gives the same bytes: nothing is rewritten.
    const again = await sb.run(["lock", file], env);
    expect(again.code).toBe(0);
    const lockDigest = `sha256:${createHash("sha256").update(text).digest("hex")}`;
    expect(again.stdout).toBe(`${file}.lock is up to date (${lockDigest})\n`);
    expect(readFileSync(`${file}.lock`, "utf8")).toBe(text);

    // A newer app in the catalog: a plain install (no --frozen) still installs the locked bytes and records the lock.
    await addon("app", "1.2.0", ["{name: base, version: ^1}"]);
    await index();
    const r = await sb.run(["stack", "install", file, ...kube, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    const installed = JSON.parse(r.stdout);
    expect(installed.addons.map((a: { name: string; version: string }) => `${a.name}@${a.version}`)).toEqual(["base@1.0.0", "app@1.1.0"]);
    // Taken from the lock as it is, not resolved again with its pins preferred.
    expect(installed.lock).toEqual({ state: "used", file: `${file}.lock`, digest: lockDigest, changes: [] });
    const run = coreRuns().find((a) => a.includes("--stack"))!;
    expect(run[run.indexOf("--stack-lock-digest") + 1]).toBe(lockDigest);
    expect(run[run.indexOf("--tgz") + 1]?.split("/").pop()).toBe(`${pinned("app-1.1.0.tgz").digest.slice(7)}.tgz`);

    // --update without a name resolves every add-on again.
    const upd = await sb.run(["lock", file, "--update"], env);
    expect(upd.code, upd.stderr).toBe(0);
    expect(upd.stdout).toContain("~ app 1.1.0 -> 1.2.0");
    expect(parse(readFileSync(`${file}.lock`, "utf8")).packages.find((p: { name: string }) => p.name === "app")).toMatchObject({
      version: "1.2.0",
      ...pinned("app-1.2.0.tgz"),
    });
  });

  it("--frozen without a lock is exit 4; a lock pins by digest and is fetched from its URL when the cache is gone", async () => {
    const file = writeStack(join(sb.root, "stack"), ["app"]);
    const missing = await sb.run(["stack", "install", file, ...kube, "--frozen"], env);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`${file}.lock does not exist (--frozen installs only from a lock)`);

    expect((await sb.run(["lock", file], env)).code).toBe(0);
    const lockDigest = `sha256:${createHash("sha256")
      .update(readFileSync(`${file}.lock`))
      .digest("hex")}`;
    // The catalog moves on (app 1.2.0 appears): the lock still installs 1.1.0, without reading any catalog.
    await addon("app", "1.2.0", ["{name: base, version: ^1}"]);
    await index();
    rmSync(join(sb.env.PK3S_CACHE_DIR!, "packages"), { recursive: true, force: true });
    const r = await sb.run(["stack", "install", file, ...kube, "--frozen", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).addons.map((a: { name: string; version: string }) => `${a.name}@${a.version}`)).toEqual([
      "base@1.0.0",
      "app@1.1.0",
    ]);
    // Core records the lock the packages came from.
    const run = coreRuns().find((a) => a.includes("--stack"))!;
    expect(run[run.indexOf("--stack-lock-digest") + 1]).toBe(lockDigest);
    const status = JSON.parse((await sb.run(["stack", "status", file, ...kube, "--json"], env)).stdout);
    expect(status.addons.map((a: { name: string; installed: string }) => `${a.name}@${a.installed}`)).toEqual(["app@1.1.0", "base@1.0.0"]);

    // --update app moves app only; a name that is not in the stack is a usage error.
    const upd = await sb.run(["lock", file, "--update", "app"], env);
    expect(upd.stdout).toContain("~ app 1.1.0 -> 1.2.0");
    expect((await sb.run(["lock", file, "--update", "nope"], env)).code).toBe(2);
  });

  it("reports drift after a manual upgrade and a manual values change; exit 0 without drift, 1 with", async () => {
    const file = writeStack(join(sb.root, "stack"), [{ name: "app", version: "1.0.0", set: ["mode=a"] }, "extra"]);
    expect((await sb.run(["lock", file], env)).code).toBe(0);
    expect((await sb.run(["stack", "install", file, ...kube], env)).code).toBe(0);
    const clean = await sb.run(["stack", "diff", file, ...kube, "--frozen"], env);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain("no drift");

    // By hand: app to 1.1.0 (pk3s addon install of a newer version upgrades it).
    expect((await sb.run(["addon", "install", "app@1.1.0", ...kube], env)).code).toBe(0);
    const drift = await sb.run(["stack", "diff", file, ...kube, "--json"], env);
    expect(drift.code).toBe(1);
    const doc = JSON.parse(drift.stdout);
    expect(doc.drift).toBe(true);
    const app = doc.addons.find((a: { name: string }) => a.name === "app");
    expect(app.differences).toEqual(["version: stack 1.0.0, cluster 1.1.0"]);
    expect(app.notes).toEqual(["installed on its own"]);
    expect(doc.addons.find((a: { name: string }) => a.name === "extra").differences).toEqual([]);

    // Back to the stack, then the same version with other values, by hand through Core.
    expect((await sb.run(["stack", "install", file, ...kube], env)).code).toBe(0);
    const appDigest = parse(readFileSync(`${file}.lock`, "utf8"))
      .packages.find((p: { name: string }) => p.name === "app")
      .digest.slice(7);
    const appTgz = join(sb.env.PK3S_CACHE_DIR!, "packages", "sha256", `${appDigest}.tgz`);
    execFileSync(process.execPath, ["--", CORE, "addon", "upgrade", "--tgz", appTgz, ...kube, "--set", "mode=b"], {
      env: { ...process.env, ...sb.env, ...env },
      stdio: "ignore",
    });
    const values = await sb.run(["stack", "diff", file, ...kube], env);
    expect(values.code).toBe(1);
    expect(values.stdout).toMatch(
      /DRIFT app 1\.0\.0 {3}\(installed on its own\)\n {8}values: stack hmac-sha256:[0-9a-f]{7}…, cluster hmac-sha256:[0-9a-f]{7}…\n/,
    );
    expect(values.stdout).toContain("drift: 1 add-on differs from the stack (exit 1)");
  });

  it("a stack Core refuses (an incompatible add-on) is Core's exit code and ONE JSON error document; nothing ran", async () => {
    const dir = await writeAddonSource(src, "futuristic", "1.0.0", [], ["  compatibility:", "    k3s:", '      minVersion: "9.0"']);
    await packPackage(dir, repo);
    await index();
    const file = writeStack(join(sb.root, "stack"), ["app", "futuristic"]);
    const plan = await sb.run(["stack", "plan", file, ...kube, "--json"], env);
    expect(plan.code).toBe(4);
    const doc = JSON.parse(plan.stdout);
    expect(doc).toMatchObject({ ok: false, error: { exitCode: 4 } });
    expect(doc.error.message).toMatch(/^futuristic 1\.0\.0 cannot be installed on cluster https:\/\/127\.0\.0\.1:6443/);
    const install = await sb.run(["stack", "install", file, ...kube], env);
    expect(install.code).toBe(4);
    expect(install.stdout).toContain("failed: futuristic\nnot attempted: base, app\n");
  });

  it("installs a bundled add-on from inside the stack (resolution mode bundled), pinned by source and digest", async () => {
    const dir = join(sb.root, "stack");
    mkdirSync(join(dir, "addons"), { recursive: true });
    const solo = await writeAddonSource(join(src, "solo"), "solo", "2.0.0", ["{name: base, version: ^1}"]);
    await packPackage(solo, join(dir, "addons"));
    const file = writeStack(dir, [{ name: "solo", version: "2.0.0", source: "addons/solo-2.0.0.tgz" }], {
      resolution: { mode: "bundled" },
    });

    const plan = await sb.run(["stack", "plan", file, ...kube], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("  install    base 1.0.0  [local] (dependency)\n  install    solo 2.0.0  [(bundled)]\n");
    expect((await sb.run(["lock", file], env)).code).toBe(0);
    const locked = parse(readFileSync(`${file}.lock`, "utf8")).packages.find((p: { name: string }) => p.name === "solo");
    expect(locked).toEqual({
      name: "solo",
      type: "addon",
      version: "2.0.0",
      source: "addons/solo-2.0.0.tgz",
      digest: `sha256:${createHash("sha256")
        .update(readFileSync(join(dir, "addons/solo-2.0.0.tgz")))
        .digest("hex")}`,
      size: expect.any(Number),
      dependencies: [{ name: "base", version: "^1" }],
    });
    const r = await sb.run(["stack", "install", file, ...kube, "--frozen", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).addons.map((a: { name: string; outcome: string }) => `${a.name}:${a.outcome}`)).toEqual([
      "base:installed",
      "solo:installed",
    ]);

    // Other bytes under the same name and version: the lock no longer matches.
    writeFileSync(join(solo, "README.md"), "changed\n");
    await packPackage(solo, join(dir, "addons"));
    const stale = await sb.run(["lock", file, "--frozen"], env);
    expect(stale.code).toBe(4);
    expect(stale.stderr).toContain("solo: addons/solo-2.0.0.tgz is not the package the lock pinned");
  });

  it("lists what is not in the stack; --prune removes only what this stack installed; uninstall goes in reverse order", async () => {
    await addon("lonely", "1.0.0");
    await index();
    expect((await sb.run(["addon", "install", "lonely", ...kube], env)).code).toBe(0);
    const file = writeStack(join(sb.root, "stack"), ["app", "extra"]);
    expect((await sb.run(["stack", "install", file, ...kube], env)).code).toBe(0);

    writeStack(join(sb.root, "stack"), ["app"]);
    const plan = await sb.run(["stack", "plan", file, ...kube], env);
    expect(plan.stdout).toContain("  not in stack extra 0.1.0 (installed by stack platform; kept; --prune removes it)");
    expect(plan.stdout).toContain("  not in stack lonely 1.0.0 (installed on its own; kept)");
    const runs = coreRuns().length;
    const pruned = await sb.run(["stack", "install", file, ...kube, "--prune", "--allow-host-changes", "--no-backup", "--json"], env);
    expect(pruned.code, pruned.stderr).toBe(0);
    // Consent to host changes and --no-backup reach Core on the install run and on each removal.
    const changing = coreRuns()
      .slice(runs)
      .filter((a) => a[1] === "install" || a[1] === "uninstall");
    expect(changing.map((a) => a.slice(0, 2).join(" "))).toEqual(["addon install", "addon uninstall"]);
    for (const a of changing) expect(a).toEqual(expect.arrayContaining(["--allow-host-changes", "--no-backup"]));
    expect(JSON.parse(pruned.stdout).pruned).toEqual([{ name: "extra", version: "0.1.0", listed: false, outcome: "removed", exitCode: 0 }]);

    // base (a dependency) was installed by the stack too; lonely was not.
    const un = await sb.run(["stack", "uninstall", file, ...kube], env);
    expect(un.code, un.stderr).toBe(0);
    expect(un.stdout).toBe(
      `Uninstall of stack platform 1.0.0 (${file}) from https://127.0.0.1:6443:\n  removed       app 1.1.0\n  removed       base 1.0.0 (dependency)\n2 removed\n`,
    );
    const uninstalls = coreRuns()
      .filter((a) => a[1] === "uninstall")
      .map((a) => a[2]);
    expect(uninstalls).toEqual(["extra", "app", "base"]);
    const left = JSON.parse((await sb.run(["stack", "status", file, ...kube, "--json"], env)).stdout);
    expect(left.notInStack.map((n: { name: string }) => n.name)).toEqual(["lonely"]);
  });
});

/** Serve every file under `dir` at its relative path. */
function serveDir(server: TestServer, dir: string): void {
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const abs = join(dir, f);
    if (!existsSync(abs) || (!f.endsWith(".tgz") && !f.endsWith(".yaml"))) continue;
    server.route(`/${f}`, (_req, res) => res.end(readFileSync(abs)));
  }
}

describe.skipIf(!available)("stacks from loopback HTTP catalogs", () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it("a stack package (stack.tgz) from a catalog: show, plan, install; a tampered package is refused (exit 6)", async () => {
    const stackSrc = join(sb.root, "stack-src");
    writeStack(stackSrc, [{ name: "app", values: ["values/app.yaml"] }]);
    mkdirSync(join(stackSrc, "values"));
    writeFileSync(join(stackSrc, "values", "app.yaml"), "replicas: 1\n");
    const packed = await packPackage(stackSrc, repo);
    expect(packed.kind).toBe("stack");
    expect((await sb.run(["catalog", "index", repo, "--base-url", server.url], env)).code).toBe(0);
    serveDir(server, repo);
    expect((await sb.run(["catalog", "remove", "local"], env)).code).toBe(0);
    expect((await sb.run(["catalog", "add", "web", `${server.url}index.yaml`], env)).code).toBe(0);

    const search = await sb.run(["search", "--type", "stack"], env);
    expect(search.stdout).toMatch(/platform\s+stack\s+1\.0\.0\s+web/);
    const show = await sb.run(["stack", "show", "platform"], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("platform@1.0.0 (stack, catalog web)");
    expect(show.stdout).toContain("  app (values values/app.yaml)");

    const r = await sb.run(["stack", "install", "web/platform", ...kube, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).addons.map((a: { name: string; catalog: string }) => `${a.catalog}/${a.name}`)).toEqual([
      "web/base",
      "web/app",
    ]);
    // The values file came out of the stack package, which is cleaned up after the run.
    const run = coreRuns().find((a) => a.includes("--stack"))!;
    expect(run).toContain("--package-options");
    expect(readdirSync(sb.root).filter((f) => f.startsWith(".pk3s-extract-"))).toEqual([]);

    // A lock cannot sit beside a catalog stack.
    expect((await sb.run(["stack", "install", "platform", ...kube, "--frozen"], env)).code).toBe(2);

    // Tampered bytes behind the same URL: the digest no longer matches, nothing is installed.
    rmSync(join(sb.env.PK3S_CACHE_DIR!, "packages"), { recursive: true, force: true });
    server.route(`/${packed.file.split("/").pop()}`, (_req, res) => res.end(Buffer.from("not the stack")));
    const bad = await sb.run(["stack", "plan", "platform", ...kube], env);
    expect(bad.code).toBe(6);
  });

  it("reads a v1alpha1 catalog's stack entry (kind: stack) instead of dropping it", async () => {
    const stackSrc = join(sb.root, "base-src");
    mkdirSync(stackSrc);
    writeFileSync(
      join(stackSrc, "stack.yaml"),
      [
        "apiVersion: addons.productive-k3s.io/v1",
        "kind: Stack",
        "metadata:",
        "  name: base",
        "  version: 0.1.0",
        "spec:",
        "  resolution:",
        "    mode: catalog",
        "  runtime:",
        "    compatibility:",
        "      kubernetes:",
        "        distros:",
        "          - k3s",
        "          - rke2",
        "  addons:",
        "    - base",
        "    - extra",
        "",
      ].join("\n"),
    );
    const stackPkg = await packPackage(stackSrc, join(sb.root, "alpha"));
    const entry = (id: string, kind: string, version: string, file: string) => ({
      id,
      name: id,
      kind,
      visibility: "public",
      category: "platform",
      description: `${id} packaged for Productive K3S.`,
      version,
      sourceRepository: "productive-k3s-addons",
      artifact: { type: "tgz", url: `${server.url}${file}` },
      tags: [id, kind],
    });
    const index = stringify({
      apiVersion: "catalogs.productive-k3s.io/v1alpha1",
      kind: "ProductiveK3SCatalog",
      metadata: { name: "productive-k3s", generatedAt: "2026-08-06T01:12:31Z" },
      entries: [
        entry("base", "addon", "1.0.0", "base-1.0.0.tgz"),
        entry("extra", "addon", "0.1.0", "extra-0.1.0.tgz"),
        entry("base-stack", "stack", "0.1.0", "base-0.1.0.tgz"),
      ].map((e, i) => (i === 2 ? { ...e, id: "base", name: "base" } : e)),
    });
    server.route("/index.yaml", (_req, res) => res.end(index));
    server.route("/base-1.0.0.tgz", (_req, res) => res.end(readFileSync(join(repo, "base-1.0.0.tgz"))));
    server.route("/extra-0.1.0.tgz", (_req, res) => res.end(readFileSync(join(repo, "extra-0.1.0.tgz"))));
    server.route("/base-0.1.0.tgz", (_req, res) => res.end(readFileSync(stackPkg.file)));
    expect((await sb.run(["catalog", "remove", "local"], env)).code).toBe(0);
    const add = await sb.run(["catalog", "add", "published", `${server.url}index.yaml`], env);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).not.toContain("left out");

    const search = await sb.run(["search", "--type", "stack", "--json"], env);
    expect(JSON.parse(search.stdout).results.map((r: { name: string; type: string }) => `${r.type}:${r.name}`)).toEqual(["stack:base"]);
    // No digests in a v1alpha1 index: refused unless --allow-unverified, as for add-ons.
    expect((await sb.run(["stack", "show", "base"], env)).code).toBe(6);
    const plan = await sb.run(["stack", "plan", "base", ...kube, "--allow-unverified"], env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("  install    base 1.0.0   [published]");
    expect(plan.stdout).toContain("  install    extra 0.1.0  [published]");

    // The stack runs on k3s and rke2 only: another distribution is exit 4 at plan time.
    const eks = await sb.run(["stack", "plan", "base", ...kube, "--allow-unverified"], { ...env, STUB_K8S_VERSION: "v1.31.2-eks-1" });
    expect(eks.code).toBe(4);
    expect(eks.stderr).toContain("the stack runs on k3s, rke2; the cluster is kubernetes");
  });
});

describe.skipIf(!available)("stacks from a signed catalog: the lock records the key that signed each package", () => {
  async function keygen(prefix: string): Promise<string> {
    const r = await sb.run(["key", "generate", "--out", join(sb.root, prefix), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).keyId as string;
  }

  it("pk3s lock writes signingKeyId; install refuses (exit 6, Core not run) a package now signed by another key, unsigned, or from a catalog no longer signed", async () => {
    const keyId = await keygen("release");
    const otherId = await keygen("other");
    const signed = await sb.run(["catalog", "index", repo, "--sign-key", join(sb.root, "release.key")]);
    expect(signed.code, signed.stderr).toBe(0);
    expect((await sb.run(["catalog", "remove", "local"])).code).toBe(0);
    expect((await sb.run(["catalog", "add", "signed", repo, "--trust-key", join(sb.root, "release.pub")])).code).toBe(0);
    const file = writeStack(join(sb.root, "stack"), [{ name: "app", version: "1.0.0" }]);
    const w = await sb.run(["lock", file], env);
    expect(w.code, w.stderr).toBe(0);
    const lock = parse(readFileSync(`${file}.lock`, "utf8"));
    expect(lock.packages.map((p: { name: string; signingKeyId?: string }) => [p.name, p.signingKeyId])).toEqual([
      ["app", keyId],
      ["base", keyId],
    ]);
    const ok = await sb.run(["stack", "install", file, ...kube], env);
    expect(ok.code, ok.stderr).toBe(0);
    // Offline, the lock's digests pin bytes whose signatures were verified when it was written.
    expect((await sb.run(["stack", "install", file, ...kube, "--offline"], env)).code).toBe(0);
    const runs = coreRuns().length;

    // base re-signed by another key, which the catalog also trusts now (a rotation the lock did not see).
    const sig = `${join(repo, "base-1.0.0.tgz")}.minisig`;
    const original = readFileSync(sig);
    expect((await sb.run(["sign", join(repo, "base-1.0.0.tgz"), "--sign-key", join(sb.root, "other.key")])).code).toBe(0);
    expect((await sb.run(["catalog", "trust", "add", "signed", join(sb.root, "other.pub")])).code).toBe(0);
    const rotated = await sb.run(["stack", "install", file, ...kube, "--json"], env);
    expect(rotated.code).toBe(6);
    expect(JSON.parse(rotated.stdout).error).toMatchObject({
      reason: "signing-key-changed",
      message: `base@1.0.0 is signed by key ${otherId}, but the lock records key ${keyId}`,
    });

    // base unsigned: its signature is gone.
    rmSync(sig);
    const unsigned = await sb.run(["stack", "install", file, ...kube, "--json"], env);
    expect(unsigned.code).toBe(6);
    expect(JSON.parse(unsigned.stdout).error).toMatchObject({ reason: "signature-missing" });

    // The catalog no longer signed (its keys removed): a lock that records a key refuses it.
    writeFileSync(sig, original);
    for (const id of [keyId, otherId]) expect((await sb.run(["catalog", "trust", "remove", "signed", id])).code).toBe(0);
    const untrusted = await sb.run(["stack", "install", file, ...kube, "--json"], env);
    expect(untrusted.code).toBe(6);
    expect(JSON.parse(untrusted.stdout).error).toMatchObject({ reason: "signing-key-changed" });
    expect(JSON.parse(untrusted.stdout).error.message).toContain(
      `the lock records signing key ${keyId}, but catalog "signed" has no trusted keys`,
    );
    expect(coreRuns().length).toBe(runs);
  });
});
