/**
 * Delegation to the runtimes through stub binaries that record their argv:
 * exact argv, order, skipping, dry runs, --instance and exit-code propagation.
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
const dbOld = pkg("db", "1.0.0");
const app = pkg("app", "1.0.0", { dependencies: [{ name: "db", version: "^1" }] });
const prof = pkg("lab-cluster", "594a7c9", { type: "profile" });

/** Core's `addon list --json` document (pkg-format's CoreAddonList) listing these add-ons. */
const cached = (p: FakePackage): string => join(sb.env.PK3S_CACHE_DIR!, "packages", "sha256", `${digestOf(p.bytes).slice(7)}.tgz`);

beforeEach(async () => {
  sb = sandbox();
  const stubs = stubRuntimes(sb.root);
  log = stubs.log;
  env = { ...stubs.env, STUB_STDOUT_addon_list: coreList([]) };
  kubeconfig = join(sb.root, "kubeconfig.yaml");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "current-context: lab",
      "contexts:",
      "  - name: lab",
      "    context: {cluster: lab-cluster, user: admin}",
      "  - name: prod",
      "    context: {cluster: prod-cluster, user: admin}",
      "clusters:",
      "  - name: lab-cluster",
      "    cluster: {server: https://10.1.2.3:6443}",
      "  - name: prod-cluster",
      "    cluster: {server: https://10.9.9.9:6443}",
      "",
    ].join("\n"),
  );
  const index = writeLocalCatalog(join(sb.root, "catalog"), [db, dbOld, app, prof]);
  expect((await sb.run(["catalog", "add", "local", index])).code).toBe(0);
});
afterEach(() => sb.cleanup());

describe("pk3s addon install", () => {
  it("installs dependencies first with the verified cached files and the pass-through options", async () => {
    const r = await sb.run(
      ["addon", "install", "app", "--kubeconfig", kubeconfig, "--context", "prod", "-f", "values.yaml", "--set", "a=b", "--set", "c=d"],
      env,
    );
    expect(r.stderr).toContain(`Target cluster: https://10.9.9.9:6443 (context prod, kubeconfig ${kubeconfig})`);
    expect(r.code).toBe(0);
    const cluster = ["--kubeconfig", kubeconfig, "--context", "prod"];
    expect(readStubLog(log)).toEqual([
      { bin: "productive-k3s-core", argv: ["addon", "list", "--json", ...cluster] },
      { bin: "productive-k3s-core", argv: ["addon", "install", "--tgz", cached(db), ...cluster] },
      {
        bin: "productive-k3s-core",
        argv: ["addon", "install", "--tgz", cached(app), ...cluster, "-f", "values.yaml", "--set", "a=b", "--set", "c=d"],
      },
    ]);
  });

  it("forwards --namespace/--force to the requested add-on only and --timeout/--break-lock to every install", async () => {
    const r = await sb.run(
      ["addon", "install", "app", "--kubeconfig", kubeconfig, "-n", "apps", "--force", "--timeout", "5m", "--break-lock"],
      env,
    );
    expect(r.code).toBe(0);
    const installs = readStubLog(log).filter((c) => c.argv[1] === "install");
    expect(installs.map((c) => c.argv.slice(4))).toEqual([
      ["--kubeconfig", kubeconfig, "--timeout", "5m", "--break-lock"],
      ["--kubeconfig", kubeconfig, "--namespace", "apps", "--force", "--timeout", "5m", "--break-lock"],
    ]);
  });

  it("skips packages already installed at a satisfying version", async () => {
    const r = await sb.run(["addon", "install", "app", "--kubeconfig", kubeconfig, "--json"], {
      ...env,
      STUB_STDOUT_addon_list: coreList([
        { name: "db", version: "1.0.0", status: "deployed" },
        { name: "app", version: "1.0.0", status: "deployed" },
      ]),
    });
    expect(r.code).toBe(0);
    // db@1.0.0 satisfies ^1 → skipped; app@1.0.0 is the requested version and installed → skipped too.
    expect(readStubLog(log).map((c) => c.argv.slice(0, 3).join(" "))).toEqual(["addon list --json"]);
    const out = JSON.parse(r.stdout);
    expect(out.steps.map((s: { name: string; action: string }) => `${s.name}:${s.action}`)).toEqual(["db:skip", "app:skip"]);
    expect(out.target.server).toBe("https://10.1.2.3:6443");
  });

  it("--dry-run is ONE Core run: the dependencies as --dependency-tgz, root flags once, Core's plan mapped onto the steps", async () => {
    const coreDoc = {
      ok: true,
      dryRun: true,
      action: "install",
      name: "app",
      version: "1.0.0",
      commands: [{ step: "install", argv: ["bash", "scripts/install.sh"] }],
      dependencyPackages: [
        {
          ok: true,
          dryRun: true,
          action: "install",
          name: "db",
          version: "1.4.0",
          commands: [{ step: "helm", argv: ["helm", "upgrade", "a b"] }],
        },
      ],
    };
    const r = await sb.run(
      ["addon", "install", "app", "--kubeconfig", kubeconfig, "--dry-run", "-n", "apps", "--set", "a=b", "--force", "--timeout", "5m"],
      { ...env, STUB_STDOUT_addon_install: JSON.stringify(coreDoc) },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(readStubLog(log).map((c) => c.argv)).toEqual([
      [
        "addon",
        "install",
        "--tgz",
        cached(app),
        "--dependency-tgz",
        cached(db),
        "--kubeconfig",
        kubeconfig,
        "--namespace",
        "apps",
        "--set",
        "a=b",
        "--force",
        "--timeout",
        "5m",
        "--dry-run",
        "--json",
      ],
    ]);
    expect(r.stdout).toContain("Plan (dry run)");
    expect(r.stdout).toMatch(
      /1\. db@1\.4\.0 .*install\n\s+would run \[helm\] helm upgrade 'a b'\n\s+2\. app@1\.0\.0 .*install\n\s+would run \[install\] bash scripts\/install\.sh\n$/,
    );

    const json = await sb.run(["addon", "install", "app", "--kubeconfig", kubeconfig, "--dry-run", "--json"], {
      ...env,
      STUB_STDOUT_addon_install: JSON.stringify(coreDoc),
    });
    const out = JSON.parse(json.stdout);
    expect(out.steps.map((s: { name: string; action: string; exitCode: number }) => `${s.name}:${s.action}:${s.exitCode}`)).toEqual([
      "db:install:0",
      "app:install:0",
    ]);
    const { dependencyPackages, ...rootDoc } = coreDoc;
    expect(out.steps.map((s: { output: unknown }) => s.output)).toEqual([dependencyPackages[0], rootDoc]);
  });

  it("--dry-run shows what Core would skip, and why", async () => {
    const reason = "db 1.2.0 is installed on cluster https://10.1.2.3:6443 and satisfies ^1 (app)";
    const coreDoc = {
      ok: true,
      dryRun: true,
      action: "none",
      previousVersion: "1.0.0",
      name: "app",
      version: "1.0.0",
      commands: [],
      dependencyPackages: [{ ok: true, dryRun: true, action: "skip", name: "db", version: "1.4.0", installedVersion: "1.2.0", reason }],
    };
    const r = await sb.run(["addon", "install", "app", "--kubeconfig", kubeconfig, "--dry-run"], {
      ...env,
      STUB_STDOUT_addon_install: JSON.stringify(coreDoc),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`1. db@1.4.0 [local] ${digestOf(db.bytes).slice(0, 19)}… skip (installed 1.2.0): ${reason}`);
    expect(r.stdout).toContain("2. app@1.0.0 [local]");
    expect(r.stdout).toContain("skip (installed 1.0.0): app@1.0.0 is already installed");
  });

  it("a dry run that Core refuses: its exit code, the package its error names, the rest not run", async () => {
    const error = {
      ok: false,
      error: { code: "E_VALIDATION", exitCode: 4, message: "app 1.0.0 cannot be installed on cluster x: 1 problem" },
    };
    const r = await sb.run(["addon", "install", "app", "--kubeconfig", kubeconfig, "--dry-run", "--json"], {
      ...env,
      STUB_STDOUT_addon_install: JSON.stringify(error),
      STUB_EXIT_addon_install: "4",
    });
    expect(r.code).toBe(4);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: false, exitCode: 4 });
    expect(out.steps.map((s: { name: string; action: string; exitCode?: number }) => `${s.name}:${s.action}:${s.exitCode}`)).toEqual([
      "db:not-run:undefined",
      "app:install:4",
    ]);
    expect(out.steps[1].output).toEqual(error);
  });

  it("a failed or interrupted add-on is installed again; a dry run without a cluster still asks Core (which warns)", async () => {
    const r = await sb.run(["addon", "install", "app", "--kubeconfig", kubeconfig], {
      ...env,
      STUB_STDOUT_addon_list: coreList([{ name: "db", version: "1.4.0", status: "failed" }]),
    });
    expect(r.code).toBe(0);
    expect(readStubLog(log).filter((c) => c.argv[1] === "install")).toHaveLength(2);
    const before = readStubLog(log).length;
    const dry = await sb.run(["addon", "install", "app", "--dry-run"], {
      ...env,
      STUB_STDOUT_addon_install: JSON.stringify({
        ok: true,
        name: "app",
        version: "1.0.0",
        action: "install",
        dependencyPackages: [{ name: "db", version: "1.4.0", action: "install" }],
      }),
      HOME: join(sb.root, "nohome"),
    });
    expect(dry.code, dry.stderr).toBe(0);
    expect(
      readStubLog(log)
        .slice(before)
        .map((c) => c.argv),
    ).toEqual([["addon", "install", "--tgz", cached(app), "--dependency-tgz", cached(db), "--dry-run", "--json"]]);
    const real = await sb.run(["addon", "install", "app", "--kubeconfig", kubeconfig], { ...env, STUB_EXIT_addon_list: "1" });
    expect(real.code).toBe(1);
  });

  it("a dry run whose Core prints no JSON is an error, not a plan", async () => {
    const r = await sb.run(["addon", "install", "app", "--kubeconfig", kubeconfig, "--dry-run"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("addon install --dry-run --json did not print JSON");
  });

  it.each([1, 4, 5, 6, 7])("propagates Core's exit code %i and stops", async (code) => {
    const r = await sb.run(["addon", "install", "app", "--kubeconfig", kubeconfig], { ...env, STUB_EXIT_addon_install: String(code) });
    expect(r.code).toBe(code);
    expect(readStubLog(log).filter((c) => c.argv[1] === "install")).toHaveLength(1);
  });

  it("--instance takes the kubeconfig from the Infra instance's outputs", async () => {
    const r = await sb.run(["addon", "install", "db@1.0.0", "--instance", "lab"], {
      ...env,
      STUB_STDOUT_profile_outputs: JSON.stringify({ ok: true, instance: "lab", outputs: { kubeconfig, server: "ignored" } }),
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Target cluster: https://10.1.2.3:6443 (context lab");
    expect(readStubLog(log)).toEqual([
      { bin: "productive-k3s-infra", argv: ["profile", "outputs", "--instance", "lab", "--json"] },
      { bin: "productive-k3s-core", argv: ["addon", "list", "--json", "--kubeconfig", kubeconfig] },
      { bin: "productive-k3s-core", argv: ["addon", "install", "--tgz", cached(dbOld), "--kubeconfig", kubeconfig] },
    ]);
  });

  it("--instance: Infra's failure exit code is propagated; a missing output is exit 3", async () => {
    const failed = await sb.run(["addon", "install", "db", "--instance", "ghost"], { ...env, STUB_EXIT_profile_outputs: "3" });
    expect(failed.code).toBe(3);
    expect(readStubLog(log).some((c) => c.bin === "productive-k3s-core")).toBe(false);
    const noOutput = await sb.run(["addon", "install", "db", "--instance", "lab"], {
      ...env,
      STUB_STDOUT_profile_outputs: '{"outputs":{}}',
    });
    expect(noOutput.code).toBe(3);
    expect(noOutput.stderr).toContain('instance "lab" has no kubeconfig output');
  });

  it("a missing runtime is exit 5 with a hint", async () => {
    const r = await sb.run(["addon", "install", "db", "--kubeconfig", kubeconfig], { ...env, PK3S_CORE_BIN: join(sb.root, "nope") });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("productive-k3s-core");
  });
});

describe("pk3s addon validate and profile verbs", () => {
  it("addon validate hands the verified file to Core", async () => {
    const r = await sb.run(["addon", "validate", "db@1.0.0", "--json"], { ...env, STUB_EXIT_addon_validate: "4" });
    expect(r.code).toBe(4);
    expect(readStubLog(log)).toEqual([{ bin: "productive-k3s-core", argv: ["addon", "validate", "--tgz", cached(dbOld), "--json"] }]);
  });

  it("addon template hands the verified file to Core with the values in order (-f made absolute), and Core's exit code", async () => {
    const r = await sb.run(
      [
        "addon",
        "template",
        "db@1.0.0",
        "-f",
        "a.yaml",
        "-f",
        "/abs/b.yaml",
        "--set",
        "x=1",
        "-n",
        "data",
        "--release-name",
        "db1",
        "--kube-version",
        "v1.31.0",
        "--json",
      ],
      { ...env, STUB_EXIT_addon_template: "4" },
    );
    expect(r.code).toBe(4);
    expect(readStubLog(log)).toEqual([
      {
        bin: "productive-k3s-core",
        argv: [
          "addon",
          "template",
          "--tgz",
          cached(dbOld),
          "-f",
          join(sb.root, "a.yaml"),
          "-f",
          "/abs/b.yaml",
          "--set",
          "x=1",
          "--namespace",
          "data",
          "--release-name",
          "db1",
          "--kube-version",
          "v1.31.0",
          "--json",
        ],
      },
    ]);
  });

  it.each([
    [
      "validate",
      ["--env-file", "my.env", "--env-file", "more.env", "--set", "A=1", "--strict"],
      ["--env-file", "my.env", "--env-file", "more.env", "--set", "A=1", "--strict"],
    ],
    ["plan", ["--env-file", "my.env", "--instance", "lab", "--break-lock"], ["--env-file", "my.env", "--instance", "lab", "--break-lock"]],
    [
      "install",
      ["--env-file", "my.env", "--instance", "lab", "--auto-approve"],
      ["--env-file", "my.env", "--instance", "lab", "--auto-approve"],
    ],
  ])("profile %s passes its options and the args after -- to Infra", async (action, given, forwarded) => {
    // Node 20 itself aborts (exit 9) when any argv word is `--env-file <missing file>`, so the files must exist.
    writeFileSync(join(sb.root, "my.env"), "AWS_REGION=eu-west-1\n");
    writeFileSync(join(sb.root, "more.env"), "B=2\n");
    const r = await sb.run(["profile", action, "lab-cluster", ...given, "--json", "--", "--extra"], env);
    expect(r.code).toBe(0);
    expect(readStubLog(log)).toEqual([
      { bin: "productive-k3s-infra", argv: ["profile", action, "--tgz", cached(prof), ...forwarded, "--json", "--extra"] },
    ]);
  });

  it.each([
    ["validate", "--instance"],
    ["status", "--env-file"],
    ["plan", "--purge"],
  ])("profile %s refuses %s like Infra would (exit 2)", async (action, flag) => {
    writeFileSync(join(sb.root, "x"), "A=1\n"); // see the note on Node 20 and --env-file above
    const r = await sb.run(["profile", action, "lab-cluster", flag, "x"], env);
    expect(r.code).toBe(2);
    expect(readStubLog(log)).toEqual([]);
  });

  it.each([1, 4, 5, 6, 7, 130])("profile install propagates exit code %i", async (code) => {
    const r = await sb.run(["profile", "install", "lab-cluster@594a7c9"], { ...env, STUB_EXIT: String(code) });
    expect(r.code).toBe(code);
  });
});

describe("pk3s --version", () => {
  it("reports its own version and the runtimes'", async () => {
    const r = await sb.run(["--version"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `pk3s 0.1.0\nproductive-k3s-core 9.9.9 (${env.PK3S_CORE_BIN})\nproductive-k3s-infra 9.9.9 (${env.PK3S_INFRA_BIN})\n`,
    );
    const missing = await sb.run(["--version", "--json"], { ...env, PK3S_INFRA_BIN: join(sb.root, "missing") });
    const v = JSON.parse(missing.stdout);
    expect(v.runtimes[1]).toMatchObject({ name: "productive-k3s-infra", version: null });
    const text = await sb.run(["--version"], { ...env, PK3S_INFRA_BIN: join(sb.root, "missing") });
    expect(text.stdout).toContain("productive-k3s-infra not found");
  });
});
