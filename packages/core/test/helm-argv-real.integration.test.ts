/**
 * Issue 13 item 1: every helm argv Core builds is one the real Helm v4 parses. Against a cluster that
 * refuses connections (https://127.0.0.1:1) the only accepted failure is that connection error: no
 * unknown or deprecated flag, no usage text, no bad argument. Where Helm's memory storage driver lets
 * the real helm answer without a cluster, Core's whole flow runs against it (status, rollback, uninstall).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { realTools } from "../../../fixtures/real-tools.js";
import { parseTimeout } from "../src/duration.js";
import {
  type HelmTarget,
  helmInstallArgs,
  helmRollbackArgs,
  helmStatusArgs,
  helmUninstallArgs,
  planUninstall,
} from "../src/lifecycle/plan.js";
import type { AddonView } from "../src/manifest-view.js";
import { createSandbox, fixtures, type Sandbox, type StubCall } from "./helpers/harness.js";
import { CONNECTION_REFUSED, demoChart, memoryRelease, runHelm, unreachableKubeconfig } from "./helpers/real-helm.js";

const tools = await realTools();

const demo: AddonView = {
  metadata: { name: "demo", version: "1.0.0" },
  spec: { type: "helm", chart: { path: "charts/demo", releaseName: "demo", namespace: "demo-system", values: ["values.yaml"] } },
};

describe.skipIf(!tools.ok)("Core's helm argv builders against the real helm v4 (unreachable cluster)", () => {
  const helm = tools.ok ? tools.helm : "";
  let dir: string;
  let kubeconfig: string;
  let userValues: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "core-helm-argv-"));
    kubeconfig = await unreachableKubeconfig(dir);
    userValues = (await demoChart(dir)).values[1] ?? "";
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const targets = (): HelmTarget[] => [
    { helm, release: "demo", namespace: "default", kubeconfig, context: "lab" },
    { helm, release: "demo-2", namespace: "demo-system", kubeconfig, context: "edge" },
  ];
  const timeouts = ["5m", "90", "1h30m", "500ms", "1.5h"].map(parseTimeout);
  const sets = ["greeting=hi", "list={a,b}", "dotted\\.key=v", "empty=", "nested.key=with spaces"];

  function expectOnlyConnectionError(args: string[]): void {
    const r = runHelm(helm, args, { cwd: dir });
    const label = `helm ${args.join(" ")}`;
    expect(r.code, `${label}\n${r.stderr}`).toBe(1);
    expect(r.stderr.trim(), label).toMatch(CONNECTION_REFUSED);
  }

  it("upgrade --install: values files, --set, namespaces, timeouts, kube context", () => {
    for (const t of targets()) {
      for (const timeout of timeouts) {
        expectOnlyConnectionError(helmInstallArgs(demo, t, timeout, { files: [], sets: [] }));
        // The user's -f file has a space in its path; --set values with braces, escaped dots, spaces, nothing.
        expectOnlyConnectionError(helmInstallArgs(demo, t, timeout, { files: [userValues], sets }));
      }
    }
  });

  it("status -o json, uninstall (also as planned by planUninstall), rollback with and without a revision", () => {
    for (const t of targets()) {
      expectOnlyConnectionError(helmStatusArgs(t));
      for (const timeout of timeouts) {
        expectOnlyConnectionError(helmUninstallArgs(t, timeout.text));
        expectOnlyConnectionError(helmRollbackArgs(t, timeout.text));
        expectOnlyConnectionError(helmRollbackArgs(t, timeout.text, 3));
      }
      const [step] = planUninstall(undefined, t, timeouts[0] ?? parseTimeout("5m"));
      expectOnlyConnectionError(step?.args ?? []);
    }
  });

  it("the check itself rejects what Helm 4 renamed or refuses (--atomic, --force, a bad duration, a missing chart)", () => {
    const base = helmInstallArgs(demo, targets()[0] as HelmTarget, parseTimeout("5m"), { files: [], sets: [] });
    for (const bad of [
      [...base, "--atomic"],
      [...base, "--force"],
      [...base, "--timeout", "1d"],
      ["upgrade", "--install", "demo"],
    ]) {
      const r = runHelm(helm, bad, { cwd: dir });
      expect(r.stderr.trim(), bad.join(" ")).not.toMatch(CONNECTION_REFUSED);
    }
  });
});

describe.skipIf(!tools.ok)("the built productive-k3s-core driving the real helm v4", () => {
  const helm = tools.ok ? tools.helm : "";
  let sb: Sandbox;
  let kubeconfig: string;
  let realEnv: Record<string, string>;

  beforeEach(async () => {
    sb = await createSandbox();
    kubeconfig = await unreachableKubeconfig(sb.root);
    realEnv = { PK3S_HELM_BIN: join(fixtures, "bin/helm-real"), PK3S_REAL_HELM: helm, KUBECONFIG: kubeconfig };
  });
  afterEach(async () => {
    await sb.cleanup();
  });

  /** A chart-only add-on (no scripts): every tool call of the run is a helm call or the kubectl probe. */
  async function demoPackage(version = "1.0.0"): Promise<string> {
    const src = await sb.variant(
      "longhorn",
      (m) => {
        (m.metadata as Record<string, unknown>).name = "demo";
        (m.metadata as Record<string, unknown>).version = version;
        m.spec = {
          type: "helm",
          chart: { path: "charts/demo", releaseName: "demo", namespace: "demo-system", values: ["values.yaml"] },
        };
      },
      {
        "charts/demo/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
        "charts/demo/templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n",
        "charts/demo/values.yaml": "{}\n",
      },
    );
    return sb.pack(src);
  }

  async function helmCalls(): Promise<(StubCall & { exitCode: number; stderr: string })[]> {
    return (await sb.calls("helm")) as (StubCall & { exitCode: number; stderr: string })[];
  }

  it("install on an unreachable cluster: status, upgrade --install and the cleanup uninstall all fail only on the connection", async () => {
    const tgz = await demoPackage();
    const userValues = join(sb.root, "user.yaml");
    await writeFile(userValues, "a: 1\n");
    const r = await sb.run(
      ["addon", "install", "--tgz", tgz, "-f", userValues, "--set", "b=2", "--context", "edge", "--timeout", "90s"],
      realEnv,
    );
    expect(r.code, r.stderr).toBe(1);
    const calls = await helmCalls();
    expect(calls.map((c) => c.argv[0])).toEqual(["status", "upgrade", "uninstall"]);
    for (const c of calls) {
      expect(c.exitCode, c.argv.join(" ")).toBe(1);
      expect(c.stderr.trim(), c.argv.join(" ")).toMatch(CONNECTION_REFUSED);
      expect(c.argv).toEqual(expect.arrayContaining(["--kube-context", "edge"]));
    }
    expect(calls[1]?.argv).toEqual(expect.arrayContaining(["-f", userValues, "--set", "b=2", "--timeout", "90s"]));
  });

  it("a pending upgrade left by an earlier run: the real helm rolls it back, then the failed upgrade rolls back to it", async () => {
    const memory = await memoryRelease(helm, await chartDir(sb.root), {
      name: "demo",
      namespace: "demo-system",
      status: "pending-upgrade",
      revision: 2,
      kubeconfig,
    });
    const r = await sb.run(["addon", "install", "--tgz", await demoPackage()], { ...realEnv, ...memory });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("release demo is pending-upgrade; rolling back to the last deployed revision first");
    const calls = await helmCalls();
    expect(calls.map((c) => [c.argv[0], c.exitCode])).toEqual([
      ["status", 0],
      ["rollback", 0],
      ["upgrade", 1],
      ["rollback", 0],
    ]);
    // Helm's memory driver loads the pending release afresh in every process, so this upgrade does not see
    // the rollback just done and refuses like helm does for a pending release: an answer, not a usage error.
    expect(calls[2]?.stderr.trim()).toBe("Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress");
    expect(calls[3]?.argv.slice(0, 3)).toEqual(["rollback", "demo", "2"]);
  });

  it("status and uninstall read the real helm's answers", async () => {
    // Install with the stub (no cluster to install to), then ask the real helm about the same release.
    const tgz = await demoPackage();
    const installed = await sb.run(["addon", "install", "--tgz", tgz], { KUBECONFIG: kubeconfig });
    expect(installed.code, installed.stderr).toBe(0);
    const memory = await memoryRelease(helm, await chartDir(sb.root), {
      name: "demo",
      namespace: "demo-system",
      status: "deployed",
      revision: 3,
      kubeconfig,
    });
    const status = await sb.run(["addon", "status", "demo", "--json"], { ...realEnv, ...memory });
    expect(status.code, status.stderr).toBe(0);
    const helmView = (JSON.parse(status.stdout) as { addon: { helm: Record<string, unknown> } }).addon.helm;
    expect(helmView).toMatchObject({ status: "deployed", revision: 3 });
    expect(helmView.lastDeployed).toMatch(/^\d{4}-\d\d-\d\dT/);

    const gone = await sb.run(["addon", "uninstall", "demo"], { ...realEnv, ...memory });
    expect(gone.code, gone.stderr).toBe(0);
    const uninstall = (await helmCalls()).filter((c) => c.argv[0] === "uninstall" && "exitCode" in c);
    expect(uninstall.map((c) => [c.exitCode, c.stderr])).toEqual([[0, ""]]);
    expect(gone.stderr).toContain('release "demo" uninstalled');
  });
});

/** A folder holding charts/demo (memoryRelease renders it with `helm install --dry-run=client`). */
async function chartDir(root: string): Promise<string> {
  const dir = await mkdtemp(join(root, "chart-"));
  await demoChart(dir);
  return dir;
}
