/** Target compatibility: local and remote hosts (operations/target.ts), the engine deciding which. */
import { describe, expect, it } from "vitest";
import { engineFor } from "../src/engines/engine-for.js";
import { checkTarget, hostArch } from "../src/operations/target.js";

describe("target compatibility", () => {
  const manifest = (engine: Record<string, unknown>, runtime?: Record<string, unknown>) =>
    ({
      apiVersion: "infra.productive-k3s.io/v1",
      kind: "Profile",
      metadata: { name: "t", version: "1.0.0", category: "c" },
      spec: { scenario: { type: "s" }, engine: { workingDir: "scenario", ...engine }, inputs: [], ...(runtime ? { runtime } : {}) },
    }) as unknown as Parameters<typeof checkTarget>[0];
  // The engine says whether its target is this machine.
  const check = (m: Parameters<typeof checkTarget>[0], env: Record<string, string>) => checkTarget(m, engineFor(m).target(), env);

  it("the engine decides where the target is", () => {
    expect(engineFor(manifest({ type: "script" })).target()).toBe("this-machine");
    expect(engineFor(manifest({ type: "ansible" })).target()).toBe("this-machine");
    expect(engineFor(manifest({ type: "ansible", inventory: "hosts.ini" })).target()).toBe("remote");
    expect(engineFor(manifest({ type: "opentofu" })).target()).toBe("remote");
  });

  it("checks a local target against this host", () => {
    const other = hostArch() === "amd64" ? "arm64" : "amd64";
    const r = check(manifest({ type: "script" }, { architectures: [other] }), {});
    expect(r.problems[0]?.message).toBe(`the profile supports ${other}, but this machine is ${hostArch()}`);
    expect(check(manifest({ type: "script" }, { architectures: [hostArch()] }), {}).problems).toEqual([]);
  });

  it("checks a remote target only when the invoking machine states it", () => {
    const m = manifest({ type: "opentofu" }, { architectures: ["amd64"], os: ["ubuntu-24.04"] });
    expect(check(m, {}).problems).toEqual([]);
    expect(check(m, { PK3S_TARGET_ARCH: "arm64" }).problems[0]?.message).toContain("but the target (PK3S_TARGET_*) is arm64");
    expect(check(m, { PK3S_TARGET_OS: "ubuntu-24.04" }).problems).toEqual([]);
    expect(check(m, { PK3S_TARGET_OS: "debian-12" }).problems[0]?.path).toBe("spec.runtime.os");
    expect(check(manifest({ type: "opentofu" }, { architectures: ["sparc"] }), {}).warnings).toHaveLength(1);
  });
});
