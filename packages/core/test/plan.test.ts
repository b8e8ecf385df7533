/** The planned steps and helm argv (lifecycle/plan.ts) and --timeout parsing. */
import { describe, expect, it } from "vitest";
import { parseTimeout } from "../src/duration.js";
import { displayArgv, helmInstallArgs, planInstall, planUninstall } from "../src/lifecycle/plan.js";
import { longhorn } from "./helpers/addon-views.js";

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
