/** Cluster and Core compatibility checks (cluster/compatibility.ts) and the distro read from the version. */
import { describe, expect, it } from "vitest";
import { checkClusterCompatibility, checkCoreCompatibility, comparePrefix } from "../src/cluster/compatibility.js";
import { distroOf } from "../src/cluster/probe.js";
import { longhorn } from "./helpers/addon-views.js";

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
