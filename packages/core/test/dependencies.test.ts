/** Dependency checks and --assume-installed (lifecycle/dependencies.ts). */
import { describe, expect, it } from "vitest";
import { checkDependencies, parseAssumed } from "../src/lifecycle/dependencies.js";

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
