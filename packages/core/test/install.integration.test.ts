import { existsSync } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { COMPAT_DIR } from "../../../fixtures/compat-dir.js";
import { createSandbox, fixtures, k3sKubeconfig, type Sandbox } from "./helpers/harness.js";

const helmStub = join(fixtures, "bin/helm");
const kubectlStub = join(fixtures, "bin/kubectl");

let sb: Sandbox;
beforeEach(async () => {
  sb = await createSandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

async function installCertManager(): Promise<void> {
  const tgz = await sb.pack(join(fixtures, "addons/cert-manager"));
  const r = await sb.run(["addon", "install", "--tgz", tgz]);
  expect(r.code, r.stderr).toBe(0);
}

describe("addon validate", () => {
  it("prints {ok, kind, name, version, digest, warnings} for a packed fixture", async () => {
    for (const name of ["longhorn", "cert-manager", "registry"]) {
      const tgz = await sb.pack(join(fixtures, "addons", name));
      const r = await sb.run(["addon", "validate", "--tgz", tgz, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(out).toMatchObject({ ok: true, kind: "addon", name });
      expect(out.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(out.warnings).toEqual([]);
    }
  });

  const compat = join(COMPAT_DIR, "addons");
  it("packages built from the published manifests (compat/addons) validate", async () => {
    const fs = await import("node:fs/promises");
    const { parse } = await import("yaml");
    const files = (await fs.readdir(compat)).filter((f) => f.endsWith(".addon.yaml"));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = await fs.readFile(join(compat, file), "utf8");
      const spec = (parse(text) as { spec: Record<string, { script?: string }> }).spec;
      const src = join(sb.root, `compat-${file}`);
      await fs.mkdir(join(src, "scripts"), { recursive: true });
      await fs.writeFile(join(src, "addon.yaml"), text);
      for (const ref of Object.values(spec)) {
        if (typeof ref?.script === "string") await fs.writeFile(join(src, ref.script), "#!/usr/bin/env bash\necho ok\n", { mode: 0o755 });
      }
      const r = await sb.run(["addon", "validate", "--tgz", await sb.pack(src), "--strict", "--json"]);
      expect(r.code, `${file}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, kind: "addon" });
    }
  });

  it("exits 3 for a missing file and 6 for a corrupt archive", async () => {
    expect((await sb.run(["addon", "validate", "--tgz", join(sb.root, "nope.tgz")])).code).toBe(3);
    const bad = join(sb.root, "bad.tgz");
    await import("node:fs/promises").then((fs) => fs.writeFile(bad, "not a tarball"));
    const r = await sb.run(["addon", "validate", "--tgz", bad, "--json"]);
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: "E_INTEGRITY" } });
  });
});

describe("addon validate --tgz reads the archive without extracting it", () => {
  it("leaves a fresh TMPDIR empty, refuses a profile (exit 4) and reports reference problems (exit 4)", async () => {
    const fs = await import("node:fs/promises");
    const tmp = join(sb.root, "tmp");
    await fs.mkdir(tmp);
    const tgz = await sb.pack(join(fixtures, "addons", "longhorn"));
    const r = await sb.run(["addon", "validate", "--tgz", tgz, "--json"], { TMPDIR: tmp });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      kind: "addon",
      name: "longhorn",
      version: expect.any(String),
      category: "storage",
      description: "Longhorn distributed block storage (test fixture with a small local chart)",
      digest: expect.any(String),
      warnings: [],
    });
    expect(await fs.readdir(tmp)).toEqual([]);

    const { packPackage } = await import("@productive-k3s/pkg-format");
    const profile = (await packPackage(join(fixtures, "profiles", "local-lab"), join(sb.root, "out"))).file;
    const p = await sb.run(["addon", "validate", "--tgz", profile, "--json"], { TMPDIR: tmp });
    expect(p.code).toBe(4);
    expect(JSON.parse(p.stdout)).toMatchObject({
      ok: false,
      error: { code: "E_VALIDATION", message: `${profile} is a profile package, not an add-on` },
    });

    // A hand-made archive whose manifest names a script that is not there.
    const src = join(sb.root, "broken");
    await fs.cp(join(fixtures, "addons", "registry"), src, { recursive: true });
    const manifest = await readFile(join(src, "addon.yaml"), "utf8");
    const script = /install:\n\s+script: (\S+)/.exec(manifest)?.[1] as string;
    await rm(join(src, script));
    const { execFileSync } = await import("node:child_process");
    const broken = join(sb.root, "broken.tgz");
    execFileSync("tar", ["-czf", broken, "-C", src, "."]);
    const b = await sb.run(["addon", "validate", "--tgz", broken, "--json"], { TMPDIR: tmp });
    expect(b.code).toBe(4);
    const problems = (JSON.parse(b.stdout) as { error: { problems: { message: string }[] } }).error.problems.map((x) => x.message);
    expect(problems).toEqual([`install script ${JSON.stringify(script)} does not exist in the package`]);
    expect(await fs.readdir(tmp)).toEqual([]);
  });
});

describe("dependencies and the helm call", () => {
  it("refuses longhorn before cert-manager (exit 4 naming it), then installs with the exact helm argv", async () => {
    const longhorn = await sb.pack(join(fixtures, "addons/longhorn"));
    const before = await sb.run(["addon", "install", "--tgz", longhorn]);
    expect(before.code).toBe(4);
    expect(before.stderr).toContain("requires cert-manager, which is not installed on cluster https://127.0.0.1:6443");
    expect(before.stderr).toContain("pk3s addon install cert-manager");
    expect((await sb.calls("helm")).filter((c) => c.argv[0] === "upgrade")).toEqual([]);

    await installCertManager();
    const userValues = join(sb.root, "mine.yaml");
    await import("node:fs/promises").then((fs) => fs.writeFile(userValues, "persistence:\n  defaultClassReplicaCount: 1\n"));
    const r = await sb.run([
      "addon",
      "install",
      "--tgz",
      longhorn,
      "-f",
      userValues,
      "--set",
      "csi.kubeletRootDir=/var/lib/k3s",
      "--timeout",
      "5m",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const upgrades = (await sb.calls("helm")).filter((c) => c.argv[0] === "upgrade");
    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]?.argv).toEqual([
      "upgrade",
      "--install",
      "longhorn",
      "./charts/longhorn",
      "--namespace",
      "longhorn-system",
      "--create-namespace",
      "--wait",
      "--timeout",
      "5m",
      "-f",
      "values.yaml",
      "-f",
      userValues,
      "--set",
      "csi.kubeletRootDir=/var/lib/k3s",
      "--kubeconfig",
      k3sKubeconfig,
      "--kube-context",
      "default",
    ]);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      ok: true,
      action: "install",
      name: "longhorn",
      version: "1.0.0",
      release: "longhorn",
      namespace: "longhorn-system",
      status: "deployed",
    });

    // hooks and scripts ran in order, from the package, with the contract
    const blocks = await sb.hookBlocks();
    expect(blocks.map((b) => b.script)).toEqual([
      "scripts/install.sh", // cert-manager
      "scripts/validate.sh",
      "scripts/hooks/pre-install.sh",
      "scripts/install.sh",
      "scripts/hooks/post-install.sh",
      "scripts/validate.sh",
    ]);
    expect(blocks[2]?.env).toMatchObject({ PK3S_STEP: "preInstall", PK3S_RELEASE: "longhorn", PK3S_NAMESPACE: "longhorn-system" });

    // the record
    const record = (await sb.record("longhorn")) as Record<string, unknown>;
    expect(record).toMatchObject({
      name: "longhorn",
      version: "1.0.0",
      digest: result.digest,
      release: "longhorn",
      namespace: "longhorn-system",
      status: "deployed",
      dependencies: [{ name: "cert-manager", version: "*" }],
    });
    expect((record.steps as { name: string; status: string }[]).map((s) => `${s.name}:${s.status}`)).toEqual([
      "preInstall:ok",
      "helm:ok",
      "install:ok",
      "postInstall:ok",
      "validate:ok",
    ]);
    expect(record.valuesFingerprint).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    const recordText = await readFile(join(await sb.clusterDir(), "addons/longhorn/record.json"), "utf8");
    expect(recordText).not.toContain("/var/lib/k3s");
    const runLog = await readFile(record.runLog as string, "utf8");
    expect(runLog).toContain("[preInstall] longhorn: pre-install checks");
    expect(runLog).toContain("csi.kubeletRootDir=***");
    expect(runLog).not.toContain("/var/lib/k3s");
    expect((await stat(join(await sb.clusterDir(), "addons/longhorn/package.tgz"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(await sb.clusterDir(), "addons/longhorn/record.json"))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(await sb.clusterDir(), "cluster.json"), "utf8"))).toEqual({
      server: "https://127.0.0.1:6443",
      context: "default",
    });
  });

  it("re-installing the same package is a no-op unless --force; another version upgrades", async () => {
    await installCertManager();
    const tgz = await sb.pack(join(fixtures, "addons/cert-manager"));
    const again = await sb.run(["addon", "install", "--tgz", tgz, "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ action: "none" });
    expect((await sb.hookBlocks()).length).toBe(2);
    const forced = await sb.run(["addon", "install", "--tgz", tgz, "--force", "--json"]);
    expect(JSON.parse(forced.stdout)).toMatchObject({ action: "install", status: "deployed" });
    const newValues = await sb.run(["addon", "install", "--tgz", tgz, "--set", "replicas=2", "--json"]);
    expect(JSON.parse(newValues.stdout)).toMatchObject({ action: "upgrade", status: "deployed" });
    expect(newValues.stderr).toContain("installed with other values; upgrading to apply them");
    const otherNs = await sb.run(["addon", "install", "--tgz", tgz, "--set", "replicas=2", "-n", "elsewhere"]);
    expect(otherNs.code).toBe(4);
    expect(otherNs.stderr).toContain("cert-manager is installed in namespace cert-manager, not elsewhere");
    const v2 = await sb.variant("cert-manager", (m) => {
      (m.metadata as Record<string, unknown>).version = "1.3.0";
    });
    const up = await sb.run(["addon", "install", "--tgz", await sb.pack(v2), "--json"]);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ action: "upgrade", previousVersion: "1.2.0", version: "1.3.0" });
    const record = (await sb.record("cert-manager")) as { version: string; history: { action: string; version: string }[] };
    expect(record.version).toBe("1.3.0");
    expect(record.history.map((h) => `${h.action}@${h.version}`)).toEqual([
      "install@1.2.0",
      "install@1.2.0",
      "upgrade@1.2.0",
      "upgrade@1.3.0",
    ]);
  });

  it("upgrade of something not installed exits 3", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/cert-manager"));
    const r = await sb.run(["addon", "upgrade", "--tgz", tgz]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("not installed");
  });
});

describe("compatibility", () => {
  async function amd64Only(): Promise<string> {
    return sb.pack(
      await sb.variant("longhorn", (m) => {
        const spec = m.spec as Record<string, Record<string, unknown>>;
        spec.compatibility!.architectures = ["amd64"];
      }),
    );
  }

  it("arm-only cluster for an amd64-only add-on exits 4", async () => {
    await installCertManager();
    const r = await sb.run(["addon", "install", "--tgz", await amd64Only()], { STUB_NODE_ARCHS: "arm64,arm64" });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      "spec.compatibility.architectures: the add-on supports amd64; unsupported node(s) in the cluster: node-0 (arm64), node-1 (arm64)",
    );
  });

  it("k3s 1.29 for minVersion 1.31 exits 4", async () => {
    await installCertManager();
    const r = await sb.run(["addon", "install", "--tgz", await sb.pack(join(fixtures, "addons/longhorn"))], {
      STUB_K8S_VERSION: "v1.29.9+k3s1",
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("requires Kubernetes/k3s >= 1.31, the cluster runs v1.29.9+k3s1");
  });

  it("rke2 cluster for a k3s-only add-on exits 4, and every failed rule is listed", async () => {
    const r = await sb.run(["addon", "install", "--tgz", await amd64Only(), "--json"], {
      STUB_K8S_VERSION: "v1.30.5+rke2r1",
      STUB_NODE_ARCHS: "arm64",
    });
    expect(r.code).toBe(4);
    const err = (JSON.parse(r.stdout) as { error: { problems: { path: string }[] } }).error;
    expect(err.problems.map((p) => p.path)).toEqual([
      "spec.compatibility.architectures",
      "spec.compatibility.k3s.minVersion",
      "spec.compatibility.kubernetes.distros",
      "spec.dependencies[0]",
    ]);
    expect(r.stderr).toContain("the cluster is rke2 (server version v1.30.5+rke2r1)");
    expect((await sb.calls("helm")).length).toBe(0);
  });
});

describe("failures and retries", () => {
  it("a failing postInstall records the failed step; a second install succeeds", async () => {
    await installCertManager();
    const marker = join(sb.root, "fail-post-install");
    await import("node:fs/promises").then((fs) => fs.writeFile(marker, ""));
    const src = await sb.variant("longhorn", () => undefined, {
      "scripts/hooks/post-install.sh": `#!/usr/bin/env bash\nset -eu\nif [ -e "${marker}" ]; then echo "post-install: broken" >&2; exit 3; fi\necho "post-install ok"\n`,
    });
    const tgz = await sb.pack(src);
    const r = await sb.run(["addon", "install", "--tgz", tgz]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("step postInstall failed: exit 3: post-install: broken");
    const record = (await sb.record("longhorn")) as {
      status: string;
      failedStep: string;
      steps: { name: string; status: string; exitCode?: number }[];
    };
    expect(record.status).toBe("failed");
    expect(record.failedStep).toBe("postInstall");
    expect(record.steps.map((s) => `${s.name}:${s.status}`)).toEqual(["preInstall:ok", "helm:ok", "install:ok", "postInstall:failed"]);
    expect(record.steps[3]?.exitCode).toBe(3);

    await rm(marker);
    const second = await sb.run(["addon", "install", "--tgz", tgz, "--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: "deployed", action: "install" });
    expect(((await sb.record("longhorn")) as { status: string }).status).toBe("deployed");
  });

  it("a failed first helm install is cleaned up so the next install works (no 'has no deployed releases' trap)", async () => {
    await installCertManager();
    const tgz = await sb.pack(join(fixtures, "addons/longhorn"));
    const r = await sb.run(["addon", "install", "--tgz", tgz], { STUB_HELM_FAIL: "upgrade", STUB_HELM_NO_DEPLOYED_TRAP: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("INSTALLATION FAILED");
    const helmVerbs = (await sb.calls("helm")).map((c) => c.argv[0]);
    expect(helmVerbs).toEqual(["status", "upgrade", "uninstall"]);
    expect(((await sb.record("longhorn")) as { failedStep: string }).failedStep).toBe("helm");

    const again = await sb.run(["addon", "install", "--tgz", tgz], { STUB_HELM_NO_DEPLOYED_TRAP: "1" });
    expect(again.code, again.stderr).toBe(0);
  });

  it("a release left pending-install by an interrupted first install is removed before installing again", async () => {
    await installCertManager();
    const fs = await import("node:fs/promises");
    await fs.mkdir(sb.helmState, { recursive: true });
    const pending = { revision: 1, status: "pending-install", chart: "./charts/longhorn", updated: "2026-11-21T00:00:00Z" };
    await fs.writeFile(
      join(sb.helmState, "releases.json"),
      JSON.stringify({ "longhorn-system/longhorn": { name: "longhorn", namespace: "longhorn-system", ...pending, history: [pending] } }),
    );
    const r = await sb.run(["addon", "install", "--tgz", await sb.pack(join(fixtures, "addons/longhorn"))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("release longhorn was left pending-install by an earlier install; removing it first");
    expect((await sb.calls("helm")).map((c) => c.argv[0])).toEqual(["status", "uninstall", "upgrade"]);
  });

  it("a failed helm upgrade rolls back to the previous revision", async () => {
    await installCertManager();
    await sb.run(["addon", "install", "--tgz", await sb.pack(join(fixtures, "addons/longhorn"))]);
    const v2 = await sb.variant("longhorn", (m) => {
      (m.metadata as Record<string, unknown>).version = "1.1.0";
    });
    const r = await sb.run(["addon", "upgrade", "--tgz", await sb.pack(v2)], { STUB_HELM_FAIL: "upgrade" });
    expect(r.code).toBe(1);
    // The record and the kept package describe what Helm left on the cluster (1.0.0), and say what was tried.
    const status = JSON.parse((await sb.run(["addon", "status", "longhorn", "--json"])).stdout);
    expect(status.addon).toMatchObject({ version: "1.0.0", status: "failed", action: "upgrade", attempted: { version: "1.1.0" } });
    const { readFile } = await import("node:fs/promises");
    const keptManifest = (
      await sb.run(["addon", "validate", "--tgz", join(await sb.clusterDir(), "addons/longhorn/package.tgz"), "--json"])
    ).stdout;
    expect(JSON.parse(keptManifest)).toMatchObject({ version: "1.0.0" });
    expect(await readFile(join(await sb.clusterDir(), "addons/longhorn/record.json"), "utf8")).toContain('"attempted"');
    const rollback = (await sb.calls("helm")).find((c) => c.argv[0] === "rollback");
    expect(rollback?.argv).toEqual([
      "rollback",
      "longhorn",
      "1",
      "--namespace",
      "longhorn-system",
      "--wait",
      "--timeout",
      "10m",
      "--kubeconfig",
      k3sKubeconfig,
      "--kube-context",
      "default",
    ]);
  });

  it("missing helm exits 5 with an install hint; unreachable cluster exits 1 naming kubeconfig and context", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/longhorn"));
    const noHelm = await sb.run(["addon", "install", "--tgz", tgz], { PK3S_HELM_BIN: join(sb.root, "no-helm") });
    expect(noHelm.code).toBe(5);
    expect(noHelm.stderr).toContain("hint: fix or unset PK3S_HELM_BIN");
    const notOnPath = await sb.run(["addon", "install", "--tgz", tgz], { PK3S_HELM_BIN: undefined, PATH: join(sb.root, "empty-path") });
    expect(notOnPath.code).toBe(5);
    expect(notOnPath.stderr).toContain("helm is not installed");
    expect(notOnPath.stderr).toContain("hint: install Helm 3 or 4 (https://helm.sh/docs/intro/install/");
    const noKubectl = await sb.run(["addon", "install", "--tgz", tgz], { PK3S_KUBECTL_BIN: undefined, PATH: "/nonexistent" });
    expect(noKubectl.code).toBe(5);
    expect(noKubectl.stderr).toContain(`kubeconfig ${k3sKubeconfig}, context default`);
    const down = await sb.run(["addon", "install", "--tgz", tgz], { STUB_KUBECTL_UNREACHABLE: "1" });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`cannot reach cluster https://127.0.0.1:6443 (kubeconfig ${k3sKubeconfig}, context default)`);
    expect(down.stderr).toContain("connection to the server 127.0.0.1:6443 was refused");
    // Both probe questions fail at once; the one reported is the version's, as when they ran in turn.
    expect(down.stderr).toContain("kubectl version -o json failed");
    expect(down.stderr).not.toContain("kubectl get nodes");
  });

  it("--dry-run against an unreachable cluster warns that cluster checks were skipped and still prints the plan", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/cert-manager"));
    const r = await sb.run(["addon", "install", "--tgz", tgz, "--dry-run"], { STUB_KUBECTL_UNREACHABLE: "1" });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("cluster checks skipped: cannot reach cluster https://127.0.0.1:6443");
    expect(r.stdout).toContain("scripts/install.sh");
    const real = await sb.run(["addon", "install", "--tgz", tgz], { STUB_KUBECTL_UNREACHABLE: "1" });
    expect(real.code).toBe(1);
  });

  it("a concurrent operation exits 7 naming the holder", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/cert-manager"));
    const fs = await import("node:fs/promises");
    const locks = join(await sb.clusterDir(), "locks");
    await fs.mkdir(locks, { recursive: true });
    const { hostname } = await import("node:os");
    await fs.writeFile(
      join(locks, "cert-manager.lock"),
      JSON.stringify({ pid: process.pid, host: hostname(), startedAt: "2026-11-21T00:00:00Z", command: "test" }),
    );
    const r = await sb.run(["addon", "install", "--tgz", tgz]);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(`pid ${process.pid}`);

    // a holder that is gone is reported as stale and only taken over with --break-lock
    const { spawnSync } = await import("node:child_process");
    const deadPid = spawnSync("true").pid;
    await fs.writeFile(
      join(locks, "cert-manager.lock"),
      JSON.stringify({ pid: deadPid, host: hostname(), startedAt: "2026-11-21T00:00:00Z" }),
    );
    const stale = await sb.run(["addon", "install", "--tgz", tgz]);
    expect(stale.code).toBe(7);
    expect(stale.stderr).toContain("--break-lock");
    const broken = await sb.run(["addon", "install", "--tgz", tgz, "--break-lock"]);
    expect(broken.code, broken.stderr).toBe(0);
    expect(existsSync(join(locks, "cert-manager.lock"))).toBe(false);
  });
});

describe("dry-run", () => {
  it("prints the target and the exact commands, runs nothing and writes no record", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/longhorn"));
    const r = await sb.run(["addon", "install", "--tgz", tgz, "--dry-run", "--assume-installed", "cert-manager@1.2.0", "--set", "a=b"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Target cluster: https://127.0.0.1:6443 (context default)");
    expect(r.stdout).toContain("1. [preInstall] bash scripts/hooks/pre-install.sh");
    expect(r.stdout).toContain(
      `2. [helm] ${helmStub} upgrade --install longhorn ./charts/longhorn --namespace longhorn-system --create-namespace --wait --timeout 10m -f values.yaml --set a=b --kubeconfig ${k3sKubeconfig} --kube-context default`,
    );
    expect(r.stdout).toContain("5. [validate] bash ../../scripts/pk3s-phase.sh validate scripts/validate.sh");
    // One probe, both questions at once (either order in the log).
    expect((await sb.calls("kubectl")).map((c) => `${c.tool} ${c.argv.slice(4).join(" ")}`).sort()).toEqual([
      "kubectl --request-timeout 30s get nodes -o json",
      "kubectl --request-timeout 30s version -o json",
    ]);
    // The chart is rendered with install's values in install's order and the cluster's version; nothing else asks helm.
    expect((await sb.calls("helm")).map((c) => c.argv)).toEqual([
      [
        "template",
        "longhorn",
        "./charts/longhorn",
        "--namespace",
        "longhorn-system",
        "--include-crds",
        "--kube-version",
        "v1.31.4+k3s1",
        "-f",
        "values.yaml",
        "--set",
        "a=b",
      ],
    ]);
    expect(r.stdout).toContain(
      "The chart renders 2 objects (helm template):\n  ConfigMap/longhorn-configmap\n  ConfigMap/longhorn-storageclass",
    );
    expect(await sb.record("longhorn")).toBeUndefined();
    expect(existsSync(sb.hookLog)).toBe(false);
  });

  it("without kubeconfig or kubectl warns 'cluster checks skipped' and still checks dependencies", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/longhorn"));
    const env = { KUBECONFIG: join(sb.root, "missing-kubeconfig"), PK3S_KUBECTL_BIN: undefined, PATH: "/nonexistent" };
    const missingDep = await sb.run(["addon", "install", "--tgz", tgz, "--dry-run"], env);
    expect(missingDep.code).toBe(4);
    expect(missingDep.stderr).toContain("cert-manager");
    const r = await sb.run(["addon", "install", "--tgz", tgz, "--dry-run", "--assume-installed", "cert-manager@1.2.0", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { warnings: string[]; cluster: unknown; commands: { step: string; argv: string[] }[] };
    expect(out.cluster).toBeNull();
    expect(out.warnings.join("\n")).toContain("cluster checks skipped: no cluster to talk to: cannot read kubeconfig");
    expect(out.commands.map((c) => c.step)).toEqual(["preInstall", "helm", "install", "postInstall", "validate"]);
    const real = await sb.run(["addon", "install", "--tgz", tgz], env);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain("missing-kubeconfig");
  });

  it("--assume-installed without --dry-run is a usage error", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/longhorn"));
    expect((await sb.run(["addon", "install", "--tgz", tgz, "--assume-installed", "cert-manager@1.2.0"])).code).toBe(2);
  });
});

describe("published-style add-on", () => {
  it("registry installs through its install script with the environment contract", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/registry"));
    // registry declares spec.impact.host: it runs only with consent
    const r = await sb.run(["addon", "install", "--tgz", tgz, "--json", "--allow-host-changes"]);
    expect(r.code, r.stderr).toBe(0);
    const blocks = await sb.hookBlocks();
    // plain scripts (no pk3s_addon_<phase> function) run as they are, configure first
    expect(blocks.map((b) => b.script)).toEqual(["scripts/configure.sh", "scripts/install.sh", "scripts/validate.sh"]);
    const env = blocks[1]!.env;
    expect(env).toMatchObject({
      PK3S_ADDON_NAME: "registry",
      PK3S_ADDON_VERSION: "0.1.0",
      PK3S_NAMESPACE: "registry",
      PK3S_RELEASE: "registry",
      KUBECONFIG: k3sKubeconfig,
      PK3S_KUBE_CONTEXT: "default",
      PK3S_HELM_BIN: helmStub,
      PK3S_CORE_KUBECTL: kubectlStub,
      PK3S_KUBECTL_BIN: expect.stringMatching(/\/pk3s-core-run-\w+\/bin\/kubectl$/),
      PK3S_STEP: "install",
      PK3S_ACTION: "install",
      PK3S_DRY_RUN: "0",
      PK3S_ALLOW_HOST_CHANGES: "y",
    });
    expect(env.PK3S_ADDON_DIR).toMatch(/\/pk3s-core-run-\w+\/addons\/registry$/);
    expect(env.PK3S_RUN_ID).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(env.PK3S_ADDON_DIR).toMatch(/^\//);
    expect(existsSync(env.PK3S_ADDON_DIR!)).toBe(false); // extracted into a temp dir, removed afterwards
    const apply = (await sb.calls("kubectl")).find((c) => c.argv.includes("apply"));
    expect(apply?.argv).toEqual([
      "--kubeconfig",
      k3sKubeconfig,
      "--context",
      "default",
      "apply",
      "-n",
      "registry",
      "-f",
      "manifests/registry.yaml",
    ]);
    expect((await sb.calls("helm")).length).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "deployed", namespace: "registry" });
    expect(((await sb.record("registry")) as { release?: string }).release).toBeUndefined();
  });
});
