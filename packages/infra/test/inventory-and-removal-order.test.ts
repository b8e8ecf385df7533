import type { ProfileInput } from "@productive-k3s/pkg-format/schema-profile";
import { describe, expect, it } from "vitest";
import { removalOrder } from "../src/cluster/removal-order.js";
import { inventoryProblems } from "../src/engines/ansible-inventory.js";

describe("add-on removal order", () => {
  it("removes an add-on before the ones it depends on, ties by name, a cycle broken by name", () => {
    const a = (name: string, ...deps: string[]) => ({ name, dependencies: deps.map((d) => ({ name: d })) });
    expect(removalOrder([a("cert-manager"), a("longhorn", "cert-manager"), a("app", "longhorn"), a("registry")])).toEqual([
      "app",
      "registry",
      "longhorn",
      "cert-manager",
    ]);
    expect(removalOrder([a("x", "y"), a("y", "x"), a("z", "x")])).toEqual(["z", "x", "y"]);
    expect(removalOrder([])).toEqual([]);
  });
});

describe("inventory values", () => {
  const profile = (inventory: Record<string, unknown>, inputs: ProfileInput[]) =>
    ({
      apiVersion: "infra.productive-k3s.io/v1",
      kind: "Profile",
      metadata: { name: "t", version: "1.0.0", category: "c" },
      spec: { scenario: { type: "s" }, engine: { type: "ansible", workingDir: "scenario", inventory }, inputs },
    }) as unknown as Parameters<typeof inventoryProblems>[0];
  const input = (name: string, sensitive = false): ProfileInput => ({ name, required: false, sensitive, source: "local-override" });

  it("an sshKeyPath must name a readable file (relative to the invocation dir); hosts of a missing input are not checked twice", async () => {
    const m = profile({ hosts: [{ input: "H" }], sshKeyPath: { input: "K" } }, [input("H"), input("K")]);
    const problems = await inventoryProblems(m, { H: "10.0.0.5", K: "no/such/key.pem" }, new Set());
    expect(problems.map((p) => p.message)).toEqual([
      `K (the SSH private key path) names "${process.cwd()}/no/such/key.pem", which is not a readable file on this machine`,
    ]);
    expect(await inventoryProblems(m, { H: "10.0.0.5", K: "package.json" }, new Set())).toEqual([]);
    expect(await inventoryProblems(m, { K: "package.json" }, new Set(["H"]))).toEqual([]);
  });

  it("a sensitive host value is never shown in a problem", async () => {
    const m = profile({ hosts: [{ input: "H" }] }, [input("H", true)]);
    const [problem] = await inventoryProblems(m, { H: "secret-host!" }, new Set());
    expect(problem?.message).toBe(
      "H (host list of spec.engine.inventory.hosts[0]) holds (value not shown: the input is sensitive): expected a host name or an IP address (several separated by spaces or commas)",
    );
  });
});
