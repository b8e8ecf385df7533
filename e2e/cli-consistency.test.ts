/**
 * Issue 6, consistency across pk3s, productive-k3s-core and productive-k3s-infra:
 * - an audit of the command trees: the same flag means the same thing and takes the same
 *   value syntax everywhere, --yes goes with --auto-approve, every runnable command has --json;
 * - `--help` of every command exits 0 and shows "Example:" with a line invoking that command;
 * - --timeout accepts the same durations everywhere;
 * - failures share one format: `error:` + `where:` + `hint:` (and {ok:false,error} with --json).
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTimeout } from "../packages/core/dist/duration.js";
import { packPackage } from "../packages/pkg-format/dist/archive/pack.js";
import { FLAG_HELP, parseDurationMs } from "../packages/pkg-format/dist/cli/cli.js";
import { type CommandEntry, commandEntries } from "./cli-surface.js";
import { BIN, FIXTURES_BIN, REPO } from "./helpers.js";

const ENTRIES = commandEntries();
const RUNNABLE = ENTRIES.filter((e) => e.runnable);

interface OptionUse {
  entry: CommandEntry;
  flags: string;
  long: string | undefined;
  short: string | undefined;
  description: string;
  /** `<file>` / `[x]`, or "" for a boolean flag. */
  placeholder: string;
  parser: string | undefined;
}

const USES: OptionUse[] = ENTRIES.flatMap((entry) =>
  entry.cmd.options.map((o) => {
    const parser = (o as unknown as { parseArg?: { name: string } }).parseArg?.name;
    return {
      entry,
      flags: o.flags,
      long: o.long,
      short: o.short,
      description: o.description,
      placeholder: /[<[][^>\]]*[>\]]/.exec(o.flags)?.[0] ?? "",
      parser,
    };
  }),
);
const usesOf = (long: string): OptionUse[] => USES.filter((u) => u.long === long);
const isProfileSide = (e: CommandEntry): boolean => e.path.includes("profile");

/** Flags whose one description lives in pkg-format's FLAG_HELP: exact text everywhere. */
const SHARED: Record<string, keyof typeof FLAG_HELP> = {
  "--json": "json",
  "--kubeconfig": "kubeconfig",
  "--context": "context",
  "--timeout": "timeout",
  "--env-file": "envFile",
  "--auto-approve": "autoApprove",
  "--yes": "yes",
  "--break-lock": "breakLock",
  "--strict": "strict",
  "--state-backend": "stateBackend",
};

/**
 * The only flags whose value syntax differs between commands, and why:
 * --set is a Helm value path on the add-on side and a profile input on the profile side;
 * --out is where a command writes its output: a folder for `package`, the index file for `catalog index`,
 *   the path prefix of the two key files for `key generate`;
 * --version is the program's own version at the root, and the version `pk3s pack` gives the packages it builds
 *   (as `helm package --version`).
 */
const OUT_BY_COMMAND: Record<string, string> = { "catalog index": "<file>", "key generate": "<prefix>" };
const PLACEHOLDER_BY_CONTEXT: Record<string, (u: OptionUse) => string> = {
  "--set": (u) => (isProfileSide(u.entry) ? "<KEY=VALUE>" : "<key=value>"),
  "--out": (u) => OUT_BY_COMMAND[u.entry.path.join(" ")] ?? "<dir>",
  "--version": (u) => (u.entry.path.join(" ") === "pack" ? "<version>" : ""),
};

describe("command-tree audit", () => {
  it("finds the three CLIs and their commands", () => {
    expect(new Set(ENTRIES.map((e) => e.binName))).toEqual(new Set(["pk3s", "productive-k3s-core", "productive-k3s-infra"]));
    expect(RUNNABLE.length).toBeGreaterThan(40);
  });

  it("every runnable command takes --json with the one description", () => {
    const missing = RUNNABLE.filter((e) => !e.cmd.options.some((o) => o.long === "--json")).map((e) => e.label);
    expect(missing).toEqual([]);
  });

  it.each(Object.entries(SHARED))("%s has the same description everywhere", (long, key) => {
    const uses = usesOf(long);
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) expect(`${u.entry.label}: ${u.description}`).toBe(`${u.entry.label}: ${FLAG_HELP[key]}`);
  });

  it("the same long flag takes the same value syntax everywhere", () => {
    const byLong = new Map<string, OptionUse[]>();
    for (const u of USES) if (u.long !== undefined) byLong.set(u.long, [...(byLong.get(u.long) ?? []), u]);
    const problems: string[] = [];
    for (const [long, uses] of byLong) {
      const expected = PLACEHOLDER_BY_CONTEXT[long];
      const shapes = new Set(uses.map((u) => (expected === undefined ? u.placeholder : `${u.placeholder}=${expected(u)}`)));
      if (expected !== undefined) {
        for (const u of uses) if (u.placeholder !== expected(u)) problems.push(`${u.entry.label} ${u.flags}: expected ${expected(u)}`);
      } else if (shapes.size > 1) {
        problems.push(`${long}: ${uses.map((u) => `${u.entry.label} "${u.flags}"`).join(", ")}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("the same short flag stands for the same long flag everywhere", () => {
    const byShort = new Map<string, Set<string>>();
    for (const u of USES) if (u.short !== undefined) byShort.set(u.short, (byShort.get(u.short) ?? new Set()).add(u.long ?? ""));
    for (const [short, longs] of byShort) expect(`${short} → ${[...longs].join(", ")}`).toBe(`${short} → ${[...longs][0]}`);
  });

  it("--yes is accepted wherever --auto-approve is, and vice versa", () => {
    for (const e of ENTRIES) {
      const longs = e.cmd.options.map((o) => o.long);
      expect(`${e.label}: ${longs.includes("--yes")}`).toBe(`${e.label}: ${longs.includes("--auto-approve")}`);
    }
    expect(usesOf("--yes").length).toBeGreaterThan(0);
  });

  it("--instance always names a productive-k3s-infra instance; --dry-run always changes nothing", () => {
    for (const u of usesOf("--instance")) expect(`${u.entry.label}: ${u.description}`).toMatch(/: productive-k3s-infra instance/);
    for (const u of usesOf("--dry-run")) expect(`${u.entry.label}: ${u.description}`).toMatch(/: change nothing: /);
  });

  it("profile inputs (--set on the profile side) have one description; repeatable flags are repeatable everywhere", () => {
    for (const u of usesOf("--set").filter((x) => isProfileSide(x.entry))) expect(u.description).toBe(FLAG_HELP.inputSet);
    for (const long of ["--env-file", "--set", "--values", "--assume-installed"]) {
      for (const u of usesOf(long)) {
        expect(`${u.entry.label} ${long}: ${u.parser}`).toBe(`${u.entry.label} ${long}: collect`);
        expect(u.description).toMatch(/repeatable/);
      }
    }
  });

  it("--timeout is validated by the one duration parser wherever it exists", () => {
    const uses = usesOf("--timeout");
    expect(new Set(uses.map((u) => u.entry.binName))).toEqual(new Set(["pk3s", "productive-k3s-core"]));
    for (const u of uses) expect(`${u.entry.label}: ${u.parser}`).toBe(`${u.entry.label}: durationOption`);
  });

  it("pk3s and productive-k3s-core accept and reject the same --timeout values", () => {
    const accept = ["10m", "90s", "1h30m", "500ms", "1.5h", "30"];
    const reject = ["", "ten", "10 minutes", "10minutes", "-5m", "0", "0s", "5d", "m"];
    for (const v of accept) {
      expect(parseDurationMs(v)).toBe(parseTimeout(v).ms);
    }
    for (const v of reject) {
      expect(() => parseDurationMs(v), v).toThrow(/invalid --timeout/);
      expect(() => parseTimeout(v), v).toThrow(/invalid --timeout/);
    }
  });
});

// ---- subprocess checks ----------------------------------------------------------------------------

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const sandbox = mkdtempSync(join(tmpdir(), "pk3s-consistency-"));
let env: NodeJS.ProcessEnv;

function cli(entry: { cli: CommandEntry["cli"] }, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--", BIN[entry.cli], ...args],
      { env: { ...env, ...extraEnv }, cwd: sandbox, timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Run `fn` over `items` with at most `limit` at a time (2 cores shared with others). */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

beforeAll(() => {
  env = {
    PATH: process.env.PATH,
    HOME: join(sandbox, "home"),
    NO_COLOR: "1",
    PK3S_STATE_DIR: join(sandbox, "state"),
    PK3S_CACHE_DIR: join(sandbox, "cache"),
    PK3S_CONFIG_DIR: join(sandbox, "config"),
    PK3S_HELM_BIN: join(FIXTURES_BIN, "helm"),
    PK3S_KUBECTL_BIN: join(FIXTURES_BIN, "kubectl"),
    PK3S_TOFU_BIN: join(FIXTURES_BIN, "tofu"),
    PK3S_STUB_LOG: join(sandbox, "stub.log"),
    STUB_HELM_STATE_DIR: join(sandbox, "helm"),
    KUBECONFIG: join(REPO, "fixtures/kubeconfig/k3s.yaml"),
  };
});
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

describe("--help of every command", () => {
  let helps: Map<string, Result>;
  beforeAll(async () => {
    const results = await pool(ENTRIES, 3, (e) => cli(e, [...e.path, "--help"]));
    helps = new Map(ENTRIES.map((e, i) => [e.label, results[i] as Result]));
  }, 180_000);

  it.each(ENTRIES.map((e) => [e.label, e] as const))("%s --help exits 0 with an Example: line invoking it", (_label, e) => {
    const r = helps.get(e.label) as Result;
    expect(r.code).toBe(0);
    const after = r.stdout.split("\nExample:\n")[1];
    expect(after, "no 'Example:' block").toBeDefined();
    const examples = (after ?? "")
      .split("\n")
      .filter((l) => l.startsWith("  "))
      .map((l) => l.trim());
    const prefix = e.label;
    expect(
      examples.some((l) => l === prefix || l.startsWith(`${prefix} `)),
      `no example starts with "${prefix}":\n${examples.join("\n")}`,
    ).toBe(true);
  });
});

describe("every runnable command accepts --json", () => {
  it("a usage error in any command, with --json, is one {ok:false,error} document (not an unknown-option error)", async () => {
    const results = await pool(RUNNABLE, 3, (e) => cli(e, [...e.path, "--json", "--no-such-flag"]));
    RUNNABLE.forEach((e, i) => {
      const r = results[i] as Result;
      expect(`${e.label}: ${r.code}`).toBe(`${e.label}: 2`);
      const doc = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; exitCode: number; message: string; where: string } };
      expect(doc.ok).toBe(false);
      expect(doc.error).toMatchObject({ code: "E_USAGE", exitCode: 2, where: e.label });
      // --json itself was understood: the complaint is never about it.
      expect(doc.error.message).not.toContain("'--json'");
      expect(r.stderr).toMatch(/^error: \S/m);
      expect(r.stderr).toContain(`hint: see the usage and an example: ${e.label} --help`);
    });
  }, 180_000);
});

describe("--timeout value syntax, end to end", () => {
  const timeoutCommands = (): CommandEntry[] => RUNNABLE.filter((e) => e.cmd.options.some((o) => o.long === "--timeout"));
  const required: Record<string, string[]> = {
    "pk3s addon install": ["longhorn"],
    "pk3s addon upgrade": ["longhorn"],
    "pk3s addon uninstall": ["longhorn"],
    "pk3s stack install": ["./stack.yaml"],
    "pk3s stack uninstall": ["./stack.yaml"],
    "productive-k3s-core addon install": ["--tgz", "x.tgz"],
    "productive-k3s-core addon upgrade": ["--tgz", "x.tgz"],
    "productive-k3s-core addon uninstall": ["longhorn"],
    "productive-k3s-core dev addon install": ["--source", "."],
    "pk3s addon backup": ["registry"],
    "pk3s addon rollback": ["registry"],
    "pk3s addon test": ["registry"],
    "productive-k3s-core addon backup": ["registry"],
    "productive-k3s-core addon rollback": ["registry"],
    "productive-k3s-core addon validate-installed": ["registry"],
  };
  it("every --timeout rejects '10 minutes' with the same usage error (exit 2) before doing anything", async () => {
    const cmds = timeoutCommands();
    expect(cmds.map((e) => e.label).sort()).toEqual(Object.keys(required).sort());
    for (const e of cmds) {
      const r = await cli(e, [...e.path, ...(required[e.label] ?? []), "--timeout", "10 minutes"]);
      expect(`${e.label}: ${r.code}`).toBe(`${e.label}: 2`);
      expect(r.stderr).toContain('error: invalid --timeout "10 minutes": expected a duration such as 90s, 10m or 1h30m');
      expect(r.stderr).toContain("hint: use a number with a unit (ms, s, m, h), e.g. 10m");
    }
  });
});

describe("one error format: error + where + hint", () => {
  const pkgs = join(sandbox, "pkgs");
  const badAddon = join(sandbox, "bad-addon");
  beforeAll(async () => {
    await packPackage(join(REPO, "fixtures/addons/longhorn"), pkgs);
    await packPackage(join(REPO, "fixtures/addons/cert-manager"), pkgs);
    await packPackage(join(REPO, "fixtures/profiles/aws-single-node-basic"), pkgs);
    mkdirSync(badAddon, { recursive: true });
    writeFileSync(
      join(badAddon, "addon.yaml"),
      "apiVersion: addons.productive-k3s.io/v1\nkind: Addon\nmetadata:\n  name: Bad_Name\n  version: one\nspec:\n  type: helm\n",
    );
    writeFileSync(join(sandbox, "broken-index.yaml"), "apiVersion: catalog.productive-k3s.io/v1\nkind: Catalog\nentries: 3\n");
    // A catalog of our own: the repository's catalogs/local packages exist only after the quickstart built them.
    execFileSync(process.execPath, ["--", BIN.pk3s, "catalog", "index", pkgs, "--out", join(pkgs, "index.yaml")], { stdio: "ignore" });
  });

  const awsEnv = join(REPO, "fixtures/env/aws-single-node-basic.env");
  const core = { cli: "core" } as const;
  const infra = { cli: "infra" } as const;
  const pk3s = { cli: "pk3s" } as const;

  /** [what, cli, args, expected exit code, extra env] */
  const cases = (): [string, { cli: CommandEntry["cli"] }, string[], number, NodeJS.ProcessEnv][] => [
    ["core: missing package file", core, ["addon", "validate", "--tgz", "missing.tgz"], 3, {}],
    ["core: bad manifest", core, ["dev", "addon", "validate", "--source", badAddon], 4, {}],
    ["core: missing values file", core, ["addon", "install", "--tgz", join(pkgs, "longhorn-1.0.0.tgz"), "-f", "nope.yaml"], 3, {}],
    ["core: missing kubeconfig", core, ["addon", "list", "--kubeconfig", "nope.yaml"], 3, {}],
    [
      "core: missing helm",
      core,
      ["addon", "install", "--tgz", join(pkgs, "longhorn-1.0.0.tgz")],
      5,
      { PK3S_HELM_BIN: "/nonexistent/helm" },
    ],
    ["core: add-on not installed", core, ["addon", "status", "ghost"], 3, {}],
    ["core: missing dependency", core, ["addon", "install", "--tgz", join(pkgs, "longhorn-1.0.0.tgz"), "--dry-run"], 4, {}],
    ["core: unknown command", core, ["frobnicate"], 2, {}],
    ["infra: missing package file", infra, ["profile", "validate", "--tgz", "missing.tgz"], 3, {}],
    [
      "infra: missing env file",
      infra,
      ["profile", "validate", "--tgz", join(pkgs, "aws-single-node-basic-1.0.0.tgz"), "--env-file", "nope.env"],
      3,
      {},
    ],
    [
      "infra: missing inputs",
      infra,
      ["profile", "validate", "--tgz", join(pkgs, "aws-single-node-basic-1.0.0.tgz"), "--require-inputs"],
      4,
      {},
    ],
    [
      "infra: missing tofu",
      infra,
      ["profile", "plan", "--tgz", join(pkgs, "aws-single-node-basic-1.0.0.tgz"), "--env-file", awsEnv],
      5,
      { PK3S_TOFU_BIN: "/nonexistent/tofu" },
    ],
    ["infra: unknown instance", infra, ["profile", "outputs", "--instance", "ghost"], 3, {}],
    ["infra: missing required option", infra, ["profile", "plan"], 2, {}],
    ["pk3s: unknown catalog entry", pk3s, ["addon", "show", "ghost"], 3, {}],
    ["pk3s: unknown catalog", pk3s, ["catalog", "remove", "ghost"], 3, {}],
    ["pk3s: missing folder", pk3s, ["catalog", "index", "nope-dir"], 3, {}],
    ["pk3s: bad option value", pk3s, ["search", "--type", "chart"], 2, {}],
    ["pk3s: bad catalog index", pk3s, ["search"], 4, { PK3S_DEFAULT_CATALOG: join(sandbox, "broken-index.yaml") }],
    ["pk3s: unreachable URL", pk3s, ["search"], 1, { PK3S_DEFAULT_CATALOG: "http://127.0.0.1:9/index.yaml", PK3S_HTTP_RETRIES: "1" }],
    [
      "pk3s: missing runtime",
      pk3s,
      ["addon", "validate", "longhorn"],
      5,
      { PK3S_CORE_BIN: "/nonexistent/productive-k3s-core", PK3S_DEFAULT_CATALOG: join(pkgs, "index.yaml") },
    ],
    ["pk3s: unknown command", pk3s, ["frobnicate"], 2, {}],
  ];

  it.each(cases().map((c) => [c[0], c] as const))("%s", async (_what, c) => {
    const [, who, args, code, extraEnv] = c;
    const human = await cli(who, args, extraEnv);
    expect(human.code, human.stderr).toBe(code);
    expect(human.stdout).toBe("");
    expect(human.stderr).toMatch(/^error: \S.*\n(?: {2}(?:error|warning): .*\n)* {2}where: \S.*\n {2}hint: \S.*\n$/m);
    expect(human.stderr).not.toMatch(/internal error|\n\s+at /);

    const json = await cli(who, [...args, "--json"], extraEnv);
    expect(json.code).toBe(code);
    const doc = JSON.parse(json.stdout) as { ok: boolean; error: Record<string, unknown> };
    expect(doc.ok).toBe(false);
    expect(doc.error).toMatchObject({ exitCode: code, message: expect.any(String), where: expect.any(String), hint: expect.any(String) });
    expect(String(doc.error.code)).toMatch(/^E_[A-Z_]+$/);
    expect(json.stderr).toContain(`error: ${String(doc.error.message)}`);
  });

  it.each([
    [core, ["adon", "list"], "adon", "addon"],
    [infra, ["profil", "list"], "profil", "profile"],
    [pk3s, ["serach"], "serach", "search"],
  ] as const)("%j: an unknown command near a real one gets a did-you-mean (exit 2)", async (who, args, typed, meant) => {
    const r = await cli(who, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: unknown command '${typed}' (Did you mean ${meant}?)`);
  });

  it("lock held: both runtimes name the holder, the lock file and what to do", async () => {
    // A live holder on this host: this test process.
    const holder = JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: "test" });
    const instanceDir = join(sandbox, "state/infra/instances/locked");
    mkdirSync(instanceDir, { recursive: true });
    writeFileSync(join(instanceDir, "lock"), holder);
    const r = await cli(infra, [
      "profile",
      "plan",
      "--tgz",
      join(pkgs, "aws-single-node-basic-1.0.0.tgz"),
      "--env-file",
      awsEnv,
      "--instance",
      "locked",
      "--json",
    ]);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: another run holds the lock \(pid \d+ on .*\n {2}where: .*lock\n {2}hint: \S/m);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: "E_LOCKED", exitCode: 7, holder: { pid: process.pid } });

    // Core: one lock per cluster (sha256 of the server URL, first 16 hex) and add-on.
    const clusterId = createHash("sha256").update("https://127.0.0.1:6443").digest("hex").slice(0, 16);
    const locks = join(sandbox, "state/core/clusters", clusterId, "locks");
    mkdirSync(locks, { recursive: true });
    writeFileSync(join(locks, "cert-manager.lock"), holder);
    const c = await cli(core, ["addon", "install", "--tgz", join(pkgs, "cert-manager-1.2.0.tgz"), "--json"]);
    expect(c.code, c.stderr).toBe(7);
    expect(c.stderr).toMatch(/^error: another run holds the lock \(pid \d+ on .*\n {2}where: .*cert-manager\.lock\n {2}hint: \S/m);
    expect(JSON.parse(c.stdout).error).toMatchObject({ code: "E_LOCKED", exitCode: 7, holder: { pid: process.pid } });
  });
});
