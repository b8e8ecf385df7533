/**
 * pk3s and the real productive-k3s-core target the cluster kubectl would (issue 13 item 5): with a
 * KUBECONFIG of two files and a --context defined only in the second, pk3s announces kubectl's server,
 * Core probes that cluster and hands the tools the same KUBECONFIG list (no --kubeconfig that would
 * narrow it to one file). The real kubectl (fixtures/real-tools.ts) says which server that is.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { packPackage } from "@productive-k3s/pkg-format/pack";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { realTools } from "../../../fixtures/real-tools.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { writeAddonSource } from "./helpers/sources.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const CORE = join(REPO, "packages/core/dist/cli/productive-k3s-core.js");
const STUB_BIN = join(REPO, "fixtures/bin");
const tools = await realTools();

let sb: Sandbox;
let kubeconfigList: string;
beforeEach(async () => {
  sb = sandbox();
  const first = join(sb.root, "first.yaml");
  const second = join(sb.root, "second.yaml");
  writeFileSync(
    first,
    "apiVersion: v1\nkind: Config\ncurrent-context: home\nclusters:\n  - name: home\n    cluster: {server: 'https://home.example:6443'}\n  - name: shared\n    cluster: {server: 'https://shared-first:6443'}\ncontexts:\n  - name: home\n    context: {cluster: home, user: me}\nusers:\n  - name: me\n    user: {token: fixture-token-not-a-secret}\n",
  );
  writeFileSync(
    second,
    "apiVersion: v1\nkind: Config\ncurrent-context: work\nclusters:\n  - name: shared\n    cluster: {server: 'https://shared-second:6443'}\ncontexts:\n  - name: work\n    context: {cluster: shared, user: exec-user}\nusers:\n  - name: exec-user\n    user:\n      exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token}\n",
  );
  kubeconfigList = [join(sb.root, "missing.yaml"), first, second].join(delimiter);
  const repo = join(sb.root, "repo");
  mkdirSync(repo);
  await packPackage(await writeAddonSource(join(sb.root, "src"), "base", "1.0.0"), repo);
  expect((await sb.run(["catalog", "index", repo])).code).toBe(0);
  expect((await sb.run(["catalog", "add", "repo", repo])).code).toBe(0);
});
afterEach(() => sb.cleanup());

describe.skipIf(!tools.ok || !existsSync(CORE))("a KUBECONFIG list, as kubectl reads it", () => {
  it("pk3s announces and Core targets kubectl's server; the tools get the list, not one file", async () => {
    const kubectl = tools.ok ? tools.kubectl : "";
    const view = spawnSync(kubectl, ["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}", "--context", "work"], {
      env: { PATH: process.env.PATH, KUBECONFIG: kubeconfigList },
      encoding: "utf8",
    });
    expect(view.stdout).toBe("https://shared-first:6443");

    const log = join(sb.root, "tools.jsonl");
    const r = await sb.run(["addon", "install", "base", "--context", "work", "--json"], {
      PATH: `${STUB_BIN}${delimiter}${process.env.PATH ?? ""}`,
      KUBECONFIG: kubeconfigList,
      PK3S_STUB_LOG: log,
    });
    expect(r.code, r.stderr).toBe(0);
    const files = kubeconfigList.split(delimiter).slice(1).join(delimiter);
    expect(r.stderr).toContain(`Target cluster: https://shared-first:6443 (context work, kubeconfig ${files})`);
    const calls = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { tool: string; argv: string[]; env: Record<string, string> });
    const probes = calls.filter((c) => c.tool === "kubectl");
    expect(probes.length).toBeGreaterThan(0);
    for (const c of probes) {
      expect(c.argv).not.toContain("--kubeconfig");
      expect(c.argv.slice(0, 2)).toEqual(["--context", "work"]);
      expect(c.env.KUBECONFIG).toBe(kubeconfigList);
    }
  });
});
