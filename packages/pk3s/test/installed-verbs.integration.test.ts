/**
 * Everyday work without switching binaries (issue 12): what acts on an
 * existing instance or add-on goes straight to the runtime, catalogs unread
 * (profile status|destroy|outputs|list, addon list|status|uninstall); addon
 * upgrade resolves from the catalogs like install. Runtimes are stubs that
 * record their argv.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { digestOf, type FakePackage, pkg, writeLocalCatalog } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { coreList, readStubLog, stubRuntimes } from "./helpers/stub-runtime.js";

let sb: Sandbox;
let log: string;
let env: Record<string, string>;
let kubeconfig: string;
const db = pkg("db", "1.4.0");
const app = pkg("app", "1.1.0", { dependencies: [{ name: "db", version: "^1" }] });
const app2 = pkg("app", "2.0.0");

const cached = (p: FakePackage): string => join(sb.env.PK3S_CACHE_DIR!, "packages", "sha256", `${digestOf(p.bytes).slice(7)}.tgz`);
const calls = (): string[][] => readStubLog(log).map((c) => c.argv);

beforeEach(() => {
  sb = sandbox();
  ({ log, env } = stubRuntimes(sb.root));
  kubeconfig = join(sb.root, "kubeconfig.yaml");
  writeFileSync(
    kubeconfig,
    "apiVersion: v1\nkind: Config\ncurrent-context: lab\ncontexts:\n  - name: lab\n    context: {cluster: lab}\nclusters:\n  - name: lab\n    cluster: {server: https://10.1.2.3:6443}\n",
  );
});
afterEach(() => sb.cleanup());

describe("instances need no catalog", () => {
  it("profile status|outputs|destroy NAME and profile list go straight to Infra with no catalog configured at all", async () => {
    writeFileSync(join(sb.root, "my.env"), "A=1\n");
    const runs: [string[], string[]][] = [
      [
        ["profile", "status", "local-lab", "--no-check", "--json", "--", "--x"],
        ["profile", "status", "--instance", "local-lab", "--no-check", "--json", "--x"],
      ],
      [
        ["profile", "outputs", "local-lab", "--show-sensitive"],
        ["profile", "outputs", "--instance", "local-lab", "--show-sensitive"],
      ],
      [
        ["profile", "destroy", "local-lab", "--env-file", "my.env", "--set", "B=2", "--auto-approve", "--purge", "--break-lock"],
        [
          "profile",
          "destroy",
          "--instance",
          "local-lab",
          "--env-file",
          "my.env",
          "--set",
          "B=2",
          "--auto-approve",
          "--purge",
          "--break-lock",
        ],
      ],
      [
        ["profile", "destroy", "--instance", "lab", "--yes"],
        ["profile", "destroy", "--instance", "lab", "--yes"],
      ],
      [
        ["profile", "destroy", "lab", "--with-addons", "--yes"],
        ["profile", "destroy", "--instance", "lab", "--yes", "--with-addons"],
      ],
      [
        ["profile", "destroy", "lab", "--forget-addons", "--json"],
        ["profile", "destroy", "--instance", "lab", "--forget-addons", "--json"],
      ],
      [
        ["profile", "list", "--json"],
        ["profile", "list", "--json"],
      ],
    ];
    for (const [args] of runs) {
      const r = await sb.run(args, env);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
    expect(calls()).toEqual(runs.map(([, argv]) => argv));
  });

  it("the runtime's exit code is pk3s's", async () => {
    const r = await sb.run(["profile", "status", "ghost"], { ...env, STUB_EXIT: "3" });
    expect(r.code).toBe(3);
  });

  it("with a profile name and --instance, the instance must come from that profile", async () => {
    const recorded = { ...env, STUB_STDOUT_profile_status: JSON.stringify({ ok: true, instance: "lab", profile: "local-lab" }) };
    const wrong = await sb.run(["profile", "destroy", "aws-single-node-basic", "--instance", "lab", "--yes"], recorded);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`instance "lab" was installed from profile "local-lab", not "aws-single-node-basic"`);
    expect(wrong.stderr).toContain("hint: name the instance alone: pk3s profile destroy lab");
    expect(calls()).toEqual([["profile", "status", "--instance", "lab", "--no-check", "--json"]]);
    const right = await sb.run(["profile", "destroy", "local-lab", "--instance", "lab", "--yes"], recorded);
    expect(right.code).toBe(0);
    expect(calls().at(-1)).toEqual(["profile", "destroy", "--instance", "lab", "--yes"]);
  });

  it.each([
    [["profile", "status", "local/local-lab@1.0.0"], "takes an instance name, not a package spec"],
    [["profile", "destroy"], "needs an instance name"],
    [["profile", "status", "Lab"], 'invalid instance name "Lab"'],
    [["profile", "outputs", "--instance", "../x"], 'invalid --instance "../x"'],
  ])("%j is a usage error (exit 2), nothing run", async (args, message) => {
    const r = await sb.run(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(calls()).toEqual([]);
  });
});

describe("add-ons on a cluster need no catalog", () => {
  it("addon list|status|uninstall hand Core the cluster, their options and the args after --", async () => {
    const runs: [string[], string[]][] = [
      [
        ["addon", "list", "--kubeconfig", kubeconfig, "--context", "lab", "--json"],
        ["addon", "list", "--kubeconfig", kubeconfig, "--context", "lab", "--json"],
      ],
      [
        ["addon", "status", "longhorn", "--kubeconfig", kubeconfig, "--", "--x"],
        ["addon", "status", "longhorn", "--kubeconfig", kubeconfig, "--x"],
      ],
      [
        ["addon", "uninstall", "longhorn", "--context", "prod", "--force", "--timeout", "5m", "--break-lock", "--json"],
        ["addon", "uninstall", "longhorn", "--context", "prod", "--force", "--timeout", "5m", "--break-lock", "--json"],
      ],
    ];
    for (const [args] of runs) {
      const r = await sb.run(args, env);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
    expect(calls()).toEqual(runs.map(([, argv]) => argv));
  });

  it("--instance takes the cluster from Infra's kubeconfig output", async () => {
    const outputs = { ...env, STUB_STDOUT_profile_outputs: JSON.stringify({ ok: true, outputs: { kubeconfig } }) };
    const r = await sb.run(["addon", "uninstall", "longhorn", "--instance", "local-lab"], outputs);
    expect(r.code, r.stderr).toBe(0);
    expect(calls()).toEqual([
      ["profile", "outputs", "--instance", "local-lab", "--json"],
      ["addon", "uninstall", "longhorn", "--kubeconfig", kubeconfig],
    ]);
    const missing = await sb.run(["addon", "list", "--instance", "gone", "--json"], { ...env, STUB_EXIT_profile_outputs: "3" });
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, error: { exitCode: 3, message: 'no kubeconfig from instance "gone"' } });
  });

  it.each([
    [["addon", "status", "Longhorn"], 'invalid add-on name "Longhorn"'],
    [["addon", "list", "--instance", "a", "--kubeconfig", "k"], "--instance and --kubeconfig both name a cluster"],
    [["addon", "uninstall", "x", "--timeout", "soon"], 'invalid --timeout "soon"'],
  ])("%j is a usage error (exit 2), nothing run", async (args, message) => {
    const r = await sb.run(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(calls()).toEqual([]);
  });
});

describe("pk3s addon upgrade", () => {
  beforeEach(async () => {
    const index = writeLocalCatalog(join(sb.root, "catalog"), [db, app, pkg("app", "1.0.0"), app2]);
    expect((await sb.run(["catalog", "add", "main", index])).code).toBe(0);
  });

  const listing = (addons: { name: string; version: string; status: string }[]): Record<string, string> => ({
    STUB_STDOUT_addon_list: coreList(addons),
  });

  it("resolves the range from the catalogs; dependencies are installed, the add-on goes to Core's upgrade whatever is installed", async () => {
    const r = await sb.run(["addon", "upgrade", "app@^1", "--kubeconfig", kubeconfig, "-f", "v.yaml", "--set", "a=b", "--timeout", "5m"], {
      ...env,
      ...listing([{ name: "app", version: "1.1.0", status: "deployed" }]),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("upgrading app@1.1.0 (2/2)");
    expect(calls()).toEqual([
      ["addon", "list", "--json", "--kubeconfig", kubeconfig],
      ["addon", "install", "--tgz", cached(db), "--kubeconfig", kubeconfig, "--timeout", "5m"],
      ["addon", "upgrade", "--tgz", cached(app), "--kubeconfig", kubeconfig, "-f", "v.yaml", "--set", "a=b", "--timeout", "5m"],
    ]);
    expect(r.stdout).toMatch(/2\. app@1\.1\.0 \[main\] .* upgrade$/m);
  });

  it("--dry-run is one Core upgrade run with the dependencies", async () => {
    const doc = { ok: true, dryRun: true, action: "upgrade", name: "app", version: "2.0.0", commands: [], dependencyPackages: [] };
    const r = await sb.run(["addon", "upgrade", "app", "--catalog", "main", "--kubeconfig", kubeconfig, "--dry-run"], {
      ...env,
      STUB_STDOUT_addon_upgrade: JSON.stringify(doc),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(calls()).toEqual([["addon", "upgrade", "--tgz", cached(app2), "--kubeconfig", kubeconfig, "--dry-run", "--json"]]);
  });

  it("refuses an add-on that is not installed, before anything runs (exit 3)", async () => {
    const r = await sb.run(["addon", "upgrade", "app", "--kubeconfig", kubeconfig], { ...env, ...listing([]) });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cannot upgrade app: it is not installed on https://10.1.2.3:6443");
    expect(r.stderr).toContain("hint: install it with: pk3s addon install app");
    expect(calls()).toEqual([["addon", "list", "--json", "--kubeconfig", kubeconfig]]);
  });
});
