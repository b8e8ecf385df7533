/** Core's target cluster and its record identity (cluster/kubeconfig.ts; the selection itself is pkg-format's). */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { clusterIdOf, resolveKubeTarget } from "../src/cluster/kubeconfig.js";

const fixtures = resolve(import.meta.dirname, "../../../fixtures");

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
