import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { checkClusterCompatibility, checkCoreCompatibility, comparePrefix } from "../src/cluster/compatibility.js";
import { clusterIdOf, resolveKubeTarget } from "../src/cluster/kubeconfig.js";
import { distroOf } from "../src/cluster/probe.js";
import { parseTimeout } from "../src/duration.js";
import { checkDependencies, parseAssumed } from "../src/lifecycle/dependencies.js";
import { displayArgv, helmInstallArgs, planInstall, planUninstall } from "../src/lifecycle/plan.js";
import type { AddonView } from "../src/manifest-view.js";
import { decideAction } from "../src/operations/install-decision.js";
import type { InstallRecord } from "../src/records/schema.js";

const fixtures = resolve(import.meta.dirname, "../../../fixtures");

const longhorn: AddonView = {
  metadata: { name: "longhorn", version: "1.0.0" },
  spec: {
    type: "helm",
    chart: { path: "charts/longhorn", releaseName: "longhorn", namespace: "longhorn-system", values: ["values.yaml"] },
    install: { script: "scripts/install.sh" },
    validate: { script: "scripts/validate.sh" },
    clean: { script: "scripts/clean.sh" },
    hooks: {
      preInstall: "scripts/hooks/pre-install.sh",
      postInstall: "scripts/hooks/post-install.sh",
      postUninstall: "scripts/hooks/post.sh",
    },
    dependencies: [{ name: "cert-manager", version: "*" }],
    compatibility: {
      architectures: ["amd64", "arm64"],
      k3s: { minVersion: "1.31" },
      kubernetes: { distros: ["k3s"] },
      requires: { core: { minVersion: "0.1.0", maxVersionExclusive: "2.0.0" } },
    },
  },
};

describe("kubeconfig", () => {
  it("uses --kubeconfig and current-context; identity is the server URL", async () => {
    const t = await resolveKubeTarget({ kubeconfig: join(fixtures, "kubeconfig/k3s.yaml") });
    expect(t).toMatchObject({ context: "default", server: "https://127.0.0.1:6443", kubeconfigSource: "--kubeconfig" });
    expect(t.clusterId).toBe(clusterIdOf("https://127.0.0.1:6443"));
    expect(t.clusterId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("selects --context, and falls back to the first KUBECONFIG path", async () => {
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = `${join(fixtures, "kubeconfig/two-clusters.yaml")}:/nonexistent`;
    try {
      expect(await resolveKubeTarget({})).toMatchObject({
        context: "lab-admin",
        server: "https://lab.example.internal:6443",
        kubeconfigSource: "KUBECONFIG",
      });
      expect(await resolveKubeTarget({ context: "edge-admin" })).toMatchObject({ server: "https://10.0.0.10:6443" });
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it("names the file and the available contexts on errors", async () => {
    await expect(resolveKubeTarget({ kubeconfig: join(fixtures, "kubeconfig/k3s.yaml"), context: "prod" })).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringContaining('context "prod" not found'),
      hint: "available contexts: default",
    });
    await expect(resolveKubeTarget({ kubeconfig: "/nonexistent/kubeconfig" })).rejects.toMatchObject({ exitCode: 3 });
    const dir = await mkdtemp(join(tmpdir(), "core-kc-"));
    await writeFile(join(dir, "config"), "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n");
    await expect(resolveKubeTarget({ kubeconfig: join(dir, "config") })).rejects.toMatchObject({
      exitCode: 4,
      message: expect.stringContaining("no current-context"),
    });
  });
});

describe("compatibility", () => {
  const k3s = { version: "v1.31.4+k3s1", distro: "k3s", architectures: ["amd64"], nodes: [{ name: "n0", architecture: "amd64" }] };

  it("compares partial versions on the parts given", () => {
    expect(comparePrefix("v1.31.4+k3s1", "1.31")).toBe(0);
    expect(comparePrefix("v1.29.9+k3s1", "1.31")).toBe(-1);
    expect(comparePrefix("v1.32.0+k3s1", "1.31")).toBe(1);
    expect(comparePrefix("v1.31.4+k3s1", "1.31.5")).toBe(-1);
    expect(comparePrefix("v1.31.4", "latest")).toBeUndefined();
    expect(distroOf("v1.31.2+rke2r1")).toBe("rke2");
    expect(distroOf("v1.31.4+k3s1")).toBe("k3s");
    expect(distroOf("v1.31.4")).toBe("kubernetes");
  });

  it("passes a matching cluster and lists every failed rule", () => {
    expect(checkClusterCompatibility(longhorn, k3s)).toEqual([]);
    const bad = checkClusterCompatibility(longhorn, {
      version: "v1.29.5+rke2r1",
      distro: "rke2",
      architectures: ["s390x"],
      nodes: [{ name: "n0", architecture: "s390x" }],
    });
    expect(bad.map((p) => p.path)).toEqual([
      "spec.compatibility.architectures",
      "spec.compatibility.k3s.minVersion",
      "spec.compatibility.kubernetes.distros",
    ]);
    expect(bad[0]?.message).toContain("n0 (s390x)");
  });

  it("checks requires.core", () => {
    expect(checkCoreCompatibility(longhorn, "0.1.0")).toEqual([]);
    expect(checkCoreCompatibility(longhorn, "2.0.0")[0]?.path).toBe("spec.compatibility.requires.core.maxVersionExclusive");
    expect(checkCoreCompatibility(longhorn, "0.0.9")[0]?.message).toContain(">= 0.1.0");
  });
});

describe("dependencies", () => {
  it("requires a deployed record satisfying the range and names the pk3s command", () => {
    const deps = [{ name: "cert-manager", version: ">=1.0.0" }];
    expect(checkDependencies(deps, [{ name: "cert-manager", version: "1.2.0", status: "deployed" }], "c").problems).toEqual([]);
    const missing = checkDependencies(deps, [], "cluster X").problems;
    expect(missing[0]?.message).toContain("requires cert-manager >=1.0.0, which is not installed on cluster X");
    expect(missing[0]?.message).toContain("pk3s addon install 'cert-manager@>=1.0.0'");
    expect(checkDependencies(deps, [{ name: "cert-manager", version: "1.2.0", status: "failed" }], "c").problems[0]?.message).toContain(
      "recorded as failed",
    );
    expect(checkDependencies(deps, [{ name: "cert-manager", version: "0.9.0", status: "assumed" }], "c").problems).toHaveLength(1);
    expect(
      checkDependencies([{ name: "x", version: "*" }], [{ name: "x", version: "0.1.0-rc.1", status: "assumed" }], "c").problems,
    ).toEqual([]);
  });

  it("parses --assume-installed", () => {
    expect(parseAssumed("cert-manager@1.2.0")).toEqual({ name: "cert-manager", version: "1.2.0" });
    expect(() => parseAssumed("cert-manager")).toThrow(/name@version/);
  });
});

describe("plan", () => {
  const t = { helm: "/bin/helm", release: "longhorn", namespace: "longhorn-system", kubeconfig: "/kc", context: "ctx" };

  it("orders values: package files, user -f, --set, then the cluster flags", () => {
    expect(helmInstallArgs(longhorn, t, parseTimeout("5m"), { files: ["/u/a.yaml", "/u/b.yaml"], sets: ["x=1", "y=2"] })).toEqual([
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
      "/u/a.yaml",
      "-f",
      "/u/b.yaml",
      "--set",
      "x=1",
      "--set",
      "y=2",
      "--kubeconfig",
      "/kc",
      "--kube-context",
      "ctx",
    ]);
  });

  it("orders install and uninstall steps and masks --set values for logs", () => {
    const steps = planInstall(longhorn, t, parseTimeout("10m"), { files: [], sets: ["password=hunter2"] });
    expect(steps.map((s) => s.name)).toEqual(["preInstall", "helm", "install", "postInstall", "validate"]);
    expect(steps[0]).toMatchObject({ file: "bash", args: ["scripts/hooks/pre-install.sh"] });
    expect(displayArgv(steps[1]!, true)).toContain("password=***");
    expect(displayArgv(steps[1]!, false)).toContain("password=hunter2");
    expect(planUninstall(longhorn, t, parseTimeout("10m")).map((s) => s.name)).toEqual(["clean", "helm-uninstall", "postUninstall"]);
    expect(planUninstall(undefined, undefined, parseTimeout("10m"))).toEqual([]);
  });

  it("parses timeouts like helm", () => {
    expect(parseTimeout("10m")).toEqual({ ms: 600_000, text: "10m" });
    expect(parseTimeout("1h30m").ms).toBe(5_400_000);
    expect(parseTimeout("90")).toEqual({ ms: 90_000, text: "90s" });
    expect(() => parseTimeout("ten")).toThrow(/invalid --timeout/);
    expect(() => parseTimeout("0s")).toThrow(/invalid --timeout/);
  });
});

describe("decideAction", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  const fingerprint = `hmac-sha256:${"c".repeat(64)}`;
  const rec = (over: Partial<InstallRecord>): InstallRecord => ({
    schemaVersion: 1,
    name: "x",
    version: "1.0.0",
    digest,
    namespace: "x",
    valuesFingerprint: fingerprint,
    status: "deployed",
    action: "install",
    steps: [],
    runId: "r",
    runLog: "/l",
    dependencies: [],
    context: "c",
    installedAt: "t",
    updatedAt: "t",
    history: [],
    ...over,
  });
  it("is a no-op for the same version and digest, upgrades otherwise", () => {
    const w = { version: "1.0.0", digest, valuesFingerprint: fingerprint, namespace: "x" };
    expect(decideAction(undefined, "install", w, false).action).toBe("install");
    expect(decideAction(rec({}), "install", w, false).action).toBe("none");
    expect(decideAction(rec({}), "install", w, true).action).toBe("install");
    expect(decideAction(rec({}), "install", { ...w, version: "1.1.0" }, false).action).toBe("upgrade");
    expect(decideAction(rec({}), "install", { ...w, valuesFingerprint: `hmac-sha256:${"b".repeat(64)}` }, false)).toMatchObject({
      action: "upgrade",
      note: expect.stringContaining("other values"),
    });
    expect(decideAction(rec({ valuesFingerprint: undefined }), "install", w, false)).toMatchObject({
      action: "upgrade",
      note: expect.stringContaining("without a values fingerprint"),
    });
    expect(decideAction(rec({ status: "failed" }), "install", w, false).action).toBe("install");
    expect(() => decideAction(rec({}), "install", { ...w, namespace: "y" }, false)).toThrow(/installed in namespace x, not y/);
    expect(() => decideAction(undefined, "upgrade", w, false)).toThrow(/not installed/);
  });
});
