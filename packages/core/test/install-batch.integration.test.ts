/**
 * `addon install --tgz R --dependency-tgz D...`: the dependencies first, in
 * the order given, in one run: one cluster probe, skips decided by Core,
 * user flags for R only, the first failure stops and names its package.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, fixtures, k3sKubeconfig, pidAlive, type Sandbox, waitFor } from "./helpers/harness.js";

const helmStub = join(fixtures, "bin/helm");
/** One cluster probe: both questions asked at once, so the log holds them in either order (compared sorted). */
const PROBE = ["kubectl --request-timeout 30s get nodes -o json", "kubectl --request-timeout 30s version -o json"];

let sb: Sandbox;
let certManager: string;
let longhorn: string;
beforeEach(async () => {
  sb = await createSandbox();
  certManager = await sb.pack(join(fixtures, "addons/cert-manager"));
  longhorn = await sb.pack(join(fixtures, "addons/longhorn"));
});
afterEach(async () => {
  await sb.cleanup();
});

/** The kubectl calls Core made to read the cluster (`--request-timeout`: the scripts' own kubectl calls are left out). */
async function probes(): Promise<string[]> {
  return (await sb.calls("kubectl"))
    .filter((c) => c.argv.includes("--request-timeout"))
    .map((c) => `${c.tool} ${c.argv.slice(4).join(" ")}`)
    .sort();
}

type Doc = Record<string, unknown> & { dependencyPackages?: Record<string, unknown>[] };

describe("addon install --dependency-tgz, dry run", () => {
  it("plans the dependency first with one cluster probe; -n/-f/--set apply to the --tgz package only", async () => {
    const values = join(sb.root, "mine.yaml");
    await import("node:fs/promises").then((fs) => fs.writeFile(values, "replicas: 1\n"));
    const r = await sb.run([
      "addon",
      "install",
      "--dependency-tgz",
      certManager,
      "--tgz",
      longhorn,
      "--dry-run",
      "-n",
      "storage",
      "-f",
      values,
      "--set",
      "a=b",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((await sb.calls("kubectl")).map((c) => `${c.tool} ${c.argv.slice(4).join(" ")}`).sort()).toEqual(PROBE);
    // Only longhorn has a chart: rendered with exactly the values of its `upgrade --install` below.
    const valuesArgs = ["-f", "values.yaml", "-f", values, "--set", "a=b"];
    expect((await sb.calls("helm")).map((c) => c.argv)).toEqual([
      [
        "template",
        "longhorn",
        "./charts/longhorn",
        "--namespace",
        "storage",
        "--include-crds",
        "--kube-version",
        "v1.31.4+k3s1",
        ...valuesArgs,
      ],
    ]);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc).toMatchObject({
      ok: true,
      dryRun: true,
      action: "install",
      name: "longhorn",
      namespace: "storage",
      cluster: { server: "https://127.0.0.1:6443" },
      dependencies: [{ name: "cert-manager", range: "*", satisfiedBy: "1.2.0", ok: true }],
    });
    expect(doc.commands).toContainEqual({
      step: "helm",
      argv: [
        helmStub,
        "upgrade",
        "--install",
        "longhorn",
        "./charts/longhorn",
        "--namespace",
        "storage",
        "--create-namespace",
        "--wait",
        "--timeout",
        "10m",
        ...valuesArgs,
        "--kubeconfig",
        k3sKubeconfig,
        "--kube-context",
        "default",
      ],
    });
    expect(doc.dependencyPackages).toEqual([
      {
        ok: true,
        dryRun: true,
        action: "install",
        name: "cert-manager",
        version: "1.2.0",
        digest: expect.stringMatching(/^sha256:/),
        namespace: "cert-manager",
        dependencies: [],
        warnings: [],
        valuesFingerprint: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/),
        hostChanges: "not-needed",
        backupFirst: false,
        commands: [
          { step: "install", argv: ["bash", "../../scripts/pk3s-phase.sh", "install", "scripts/install.sh"] },
          { step: "validate", argv: ["bash", "../../scripts/pk3s-phase.sh", "validate", "scripts/validate.sh"] },
        ],
      },
    ]);
    expect(await sb.record("cert-manager")).toBeUndefined();
    expect(existsSync(sb.hookLog)).toBe(false);
  });

  it("a single --tgz keeps today's document (no dependencyPackages)", async () => {
    const r = await sb.run(["addon", "install", "--tgz", certManager, "--dry-run", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout) as Doc)).not.toContain("dependencyPackages");
  });

  it("dependencies are planned in the order given: a later one counts the earlier ones as installed", async () => {
    const registry = await sb.pack(join(fixtures, "addons/registry"));
    const wrong = await sb.run([
      "addon",
      "install",
      "--dependency-tgz",
      longhorn,
      "--dependency-tgz",
      certManager,
      "--tgz",
      registry,
      "--dry-run",
    ]);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain("error: longhorn 1.0.0 cannot be installed on cluster https://127.0.0.1:6443: 1 problem");
    expect(wrong.stderr).toContain("requires cert-manager, which is not installed");

    const right = await sb.run([
      "addon",
      "install",
      "--dependency-tgz",
      certManager,
      "--dependency-tgz",
      longhorn,
      "--tgz",
      registry,
      "--dry-run",
    ]);
    expect(right.code, right.stderr).toBe(0);
    const packages = [...right.stdout.matchAll(/^Package: (\S+) /gm)].map((m) => m[1]);
    expect(packages).toEqual(["cert-manager", "longhorn", "registry"]);
    expect(right.stdout).toContain("Dependencies: cert-manager * (1.2.0)");
    expect(await probes()).toEqual([...PROBE, ...PROBE].sort());
  });

  it("skips a dependency the cluster satisfies for every range of the run; plans one it does not", async () => {
    expect((await sb.run(["addon", "install", "--tgz", certManager])).code).toBe(0);
    const calls = (await sb.calls()).length;
    const skip = await sb.run(["addon", "install", "--dependency-tgz", certManager, "--tgz", longhorn, "--dry-run", "--json"]);
    expect(skip.code, skip.stderr).toBe(0);
    expect(skip.stderr).toContain(
      "would skip cert-manager 1.2.0: cert-manager 1.2.0 is installed on cluster https://127.0.0.1:6443 and satisfies * (longhorn)",
    );
    expect((JSON.parse(skip.stdout) as Doc).dependencyPackages).toEqual([
      {
        ok: true,
        dryRun: true,
        action: "skip",
        name: "cert-manager",
        version: "1.2.0",
        digest: expect.stringMatching(/^sha256:/),
        installedVersion: "1.2.0",
        requiredBy: [{ by: "longhorn", range: "*" }],
        reason: "cert-manager 1.2.0 is installed on cluster https://127.0.0.1:6443 and satisfies * (longhorn)",
      },
    ]);
    const after = (await sb.calls()).slice(calls);
    expect(
      after
        .filter((c) => c.tool === "kubectl")
        .map((c) => `${c.tool} ${c.argv.slice(4).join(" ")}`)
        .sort(),
    ).toEqual(PROBE);
    expect(after.filter((c) => c.tool === "helm").map((c) => c.argv.slice(0, 2))).toEqual([["template", "longhorn"]]);

    // longhorn now wants cert-manager >=1.3: the installed 1.2.0 does not do, the given 1.3.0 is an upgrade.
    const cm13 = await sb.pack(
      await sb.variant("cert-manager", (m) => {
        (m.metadata as Record<string, unknown>).version = "1.3.0";
      }),
    );
    const lh = await sb.pack(
      await sb.variant("longhorn", (m) => {
        (m.spec as Record<string, unknown>).dependencies = [{ name: "cert-manager", version: ">=1.3.0" }];
      }),
    );
    const up = await sb.run(["addon", "install", "--dependency-tgz", cm13, "--tgz", lh, "--dry-run", "--json"]);
    expect(up.code, up.stderr).toBe(0);
    const doc = JSON.parse(up.stdout) as Doc;
    expect(doc.dependencyPackages?.[0]).toMatchObject({ action: "upgrade", previousVersion: "1.2.0", version: "1.3.0" });
    expect(doc).toMatchObject({ action: "install", dependencies: [{ name: "cert-manager", range: ">=1.3.0", satisfiedBy: "1.3.0" }] });
  });

  it("the same add-on twice in one run is a usage error (exit 2)", async () => {
    const r = await sb.run(["addon", "install", "--dependency-tgz", certManager, "--tgz", certManager, "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: cert-manager is given more than once");
  });

  it("a missing --dependency-tgz file is exit 3 naming the flag", async () => {
    const r = await sb.run(["addon", "install", "--dependency-tgz", join(sb.root, "nope.tgz"), "--tgz", longhorn, "--dry-run"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("hint: check the --dependency-tgz path");
    expect(await sb.calls()).toEqual([]);
  });
});

describe("addon install --dependency-tgz, real run", () => {
  it("installs both with one probe, each with its own record and run log; values for the --tgz package only", async () => {
    const r = await sb.run(["addon", "install", "--dependency-tgz", certManager, "--tgz", longhorn, "--set", "a=b", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(await probes()).toEqual(PROBE);
    const upgrades = (await sb.calls("helm")).filter((c) => c.argv[0] === "upgrade");
    expect(upgrades.map((c) => c.argv.slice(0, 3))).toEqual([["upgrade", "--install", "longhorn"]]);
    expect(upgrades[0]?.argv).toEqual(expect.arrayContaining(["--set", "a=b"]));
    expect((await sb.hookBlocks()).map((b) => b.script)).toEqual([
      "scripts/install.sh",
      "scripts/validate.sh",
      "scripts/hooks/pre-install.sh",
      "scripts/install.sh",
      "scripts/hooks/post-install.sh",
      "scripts/validate.sh",
    ]);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc).toMatchObject({ dryRun: false, action: "install", name: "longhorn", status: "deployed" });
    expect(doc.dependencyPackages).toMatchObject([{ dryRun: false, action: "install", name: "cert-manager", status: "deployed" }]);
    const cm = (await sb.record("cert-manager")) as { status: string; runLog: string; valuesFingerprint: string };
    const lh = (await sb.record("longhorn")) as { status: string; runLog: string };
    expect([cm.status, lh.status]).toEqual(["deployed", "deployed"]);
    expect(cm.runLog).not.toBe(lh.runLog);
    expect(existsSync(cm.runLog) && existsSync(lh.runLog)).toBe(true);

    // A dry run reads cert-manager (no values files) without extracting it: same fingerprint, nothing to do.
    const dry = await sb.run(["addon", "install", "--tgz", certManager, "--dry-run", "--json"]);
    expect(JSON.parse(dry.stdout)).toMatchObject({ action: "none", previousVersion: "1.2.0" });

    // Again with --force: the satisfied dependency is skipped, --force reinstalls the --tgz package only.
    const again = await sb.run([
      "addon",
      "install",
      "--dependency-tgz",
      certManager,
      "--tgz",
      longhorn,
      "--set",
      "a=b",
      "--force",
      "--json",
    ]);
    expect(again.code, again.stderr).toBe(0);
    const next = JSON.parse(again.stdout) as Doc;
    expect(next.dependencyPackages?.map((d) => d.action)).toEqual(["skip"]);
    expect(next).toMatchObject({ action: "install", status: "deployed" });
    expect(((await sb.record("cert-manager")) as { history: unknown[] }).history).toHaveLength(1);
    expect(((await sb.record("longhorn")) as { history: unknown[] }).history).toHaveLength(2);
  });

  it("a failing dependency stops the run naming it: nothing after it runs", async () => {
    const broken = await sb.pack(
      await sb.variant("cert-manager", () => undefined, {
        "scripts/install.sh": '#!/usr/bin/env bash\necho "cert-manager: broken" >&2\nexit 3\n',
      }),
    );
    const r = await sb.run(["addon", "install", "--dependency-tgz", broken, "--tgz", longhorn, "--json"]);
    expect(r.code).toBe(1);
    const err = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
    expect(err.code).toBe("E_STEP_FAILED");
    expect(err.message).toMatch(/^cert-manager 1\.2\.0: step install failed: exit 3: cert-manager: broken/);
    expect(((await sb.record("cert-manager")) as { status: string }).status).toBe("failed");
    expect(await sb.record("longhorn")).toBeUndefined();
    expect((await sb.calls("helm")).filter((c) => c.argv[0] === "upgrade")).toEqual([]);
  });

  it("every package is checked before any runs: an incompatible --tgz package installs nothing (exit 4)", async () => {
    const amd64 = await sb.pack(
      await sb.variant("longhorn", (m) => {
        (m.spec as Record<string, Record<string, unknown>>).compatibility!.architectures = ["amd64"];
      }),
    );
    const r = await sb.run(["addon", "install", "--dependency-tgz", certManager, "--tgz", amd64], { STUB_NODE_ARCHS: "arm64" });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("error: longhorn 1.0.0 cannot be installed on cluster https://127.0.0.1:6443");
    expect(await sb.record("cert-manager")).toBeUndefined();
    expect(existsSync(sb.hookLog)).toBe(false);
  });

  it("Ctrl-C in the middle: exit 130, the running package recorded interrupted, no extraction left behind", async () => {
    const started = join(sb.root, "started");
    const pidFile = join(sb.root, "hook.pid");
    const slow = await sb.pack(
      await sb.variant(
        "cert-manager",
        (m) => {
          (m.spec as Record<string, unknown>).hooks = { postInstall: "scripts/slow.sh" };
        },
        { "scripts/slow.sh": `#!/usr/bin/env bash\necho $$ > "${pidFile}"\ntouch "${started}"\nsleep 300 & wait\n` },
      ),
    );
    const tmp = join(sb.root, "tmp");
    await mkdir(tmp);
    const { child, done } = sb.spawn(["addon", "install", "--dependency-tgz", slow, "--tgz", longhorn], { TMPDIR: tmp });
    await waitFor(async () => existsSync(started));
    child.kill("SIGINT");
    const r = await done;
    expect(r.code).toBe(130);
    expect(((await sb.record("cert-manager")) as { status: string }).status).toBe("interrupted");
    expect(await sb.record("longhorn")).toBeUndefined();
    expect(await readdir(tmp)).toEqual([]);
    const hook = Number((await readFile(pidFile, "utf8")).trim());
    await waitFor(async () => !pidAlive(hook), 10_000);
  });
});
