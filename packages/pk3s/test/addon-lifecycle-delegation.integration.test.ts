/**
 * `pk3s addon history|rollback|backup|backups|test`: delegated to Core as
 * given (stub runtime recording argv), exit codes kept; `pk3s addon install`
 * forwards --allow-host-changes and --no-backup.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pkg, writeLocalCatalog } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { readStubLog, writeStubRuntime } from "./helpers/stub-runtime.js";

let sb: Sandbox;
let log: string;
let env: Record<string, string>;

beforeEach(() => {
  sb = sandbox();
  const bin = join(sb.root, "bin");
  mkdirSync(bin);
  log = join(sb.root, "calls.jsonl");
  env = {
    PK3S_CORE_BIN: writeStubRuntime(bin, "productive-k3s-core"),
    STUB_LOG: log,
    STUB_STDOUT_addon_list: JSON.stringify({ ok: true, addons: [] }),
  };
});
afterEach(() => sb.cleanup());

describe("the installed add-on's lifecycle through pk3s", () => {
  it("forwards each command and its options to productive-k3s-core as given", async () => {
    const cases: [string[], string[]][] = [
      [
        ["addon", "history", "longhorn", "--kubeconfig", "k.yaml", "--context", "lab", "--json"],
        ["addon", "history", "longhorn", "--kubeconfig", "k.yaml", "--context", "lab", "--json"],
      ],
      [
        [
          "addon",
          "rollback",
          "longhorn",
          "--to",
          "2",
          "-f",
          "a.yaml",
          "--set",
          "x=1",
          "--set",
          "y=2",
          "--allow-host-changes",
          "--no-backup",
          "--dry-run",
        ],
        [
          "addon",
          "rollback",
          "longhorn",
          "--to",
          "2",
          "--values",
          "a.yaml",
          "--set",
          "x=1",
          "--set",
          "y=2",
          "--dry-run",
          "--allow-host-changes",
          "--no-backup",
        ],
      ],
      [
        ["addon", "backup", "registry", "--output", "out", "--timeout", "5m"],
        ["addon", "backup", "registry", "--output", "out", "--timeout", "5m"],
      ],
      [
        ["addon", "backups", "registry"],
        ["addon", "backups", "registry"],
      ],
      [
        ["addon", "test", "longhorn", "--break-lock"],
        ["addon", "validate-installed", "longhorn", "--break-lock"],
      ],
    ];
    for (const [args] of cases) {
      const r = await sb.run(args, env);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(readStubLog(log).map((c) => c.argv)).toEqual(cases.map(([, core]) => core));
  });

  it("Core's stdout is the output and its exit code is pk3s's", async () => {
    const doc = JSON.stringify({ ok: false, error: { code: "E_VALIDATION", exitCode: 4, message: "host changes not allowed" } });
    const r = await sb.run(["addon", "rollback", "registry", "--json"], {
      ...env,
      STUB_STDOUT_addon_rollback: doc,
      STUB_EXIT_addon_rollback: "4",
    });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe(doc);
  });

  it("each command documents itself with an example; the name is required (exit 2)", async () => {
    for (const verb of ["history", "rollback", "backup", "backups", "test"]) {
      const help = await sb.run(["addon", verb, "--help"], env);
      expect(help.stdout).toContain("Example:\n  pk3s addon");
      expect((await sb.run(["addon", verb], env)).code).toBe(2);
    }
  });

  it("pk3s addon install forwards --allow-host-changes and --no-backup to every install", async () => {
    const index = writeLocalCatalog(join(sb.root, "catalog"), [pkg("db", "1.0.0")]);
    expect((await sb.run(["catalog", "add", "local", index])).code).toBe(0);
    const kubeconfig = join(sb.root, "kubeconfig.yaml");
    const r = await sb.run(["addon", "install", "db", "--kubeconfig", kubeconfig, "--allow-host-changes", "--no-backup"], env);
    expect(r.code, r.stderr).toBe(0);
    const install = readStubLog(log).find((c) => c.argv[1] === "install");
    expect(install?.argv.slice(-2)).toEqual(["--allow-host-changes", "--no-backup"]);
  });
});
