/**
 * pk3s with the real productive-k3s-core and productive-k3s-infra (found as
 * the installed workspace packages), against the stub cluster tools in
 * fixtures/bin: resolve, verify, delegate, and skip what Core reports as installed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { packPackage } from "@productive-k3s/pkg-format/pack";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { writeAddonSource } from "./helpers/sources.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const CORE = join(REPO, "packages/core/dist/cli/productive-k3s-core.js");
const INFRA = join(REPO, "packages/infra/dist/cli/productive-k3s-infra.js");
const KUBECONFIG = join(REPO, "fixtures/kubeconfig/k3s.yaml");
const STUB_BIN = join(REPO, "fixtures/bin");
const available = existsSync(CORE) && existsSync(INFRA) && existsSync(KUBECONFIG) && existsSync(join(STUB_BIN, "kubectl"));

let sb: Sandbox;
let env: Record<string, string>;
beforeEach(async () => {
  sb = sandbox();
  env = { PATH: `${STUB_BIN}${delimiter}${process.env.PATH ?? ""}`, PK3S_STUB_LOG: join(sb.root, "tools.jsonl") };
  const repo = join(sb.root, "repo");
  mkdirSync(repo);
  await packPackage(await writeAddonSource(join(sb.root, "src"), "base", "1.1.0"), repo);
  await packPackage(await writeAddonSource(join(sb.root, "src"), "app", "2.0.0", ["{name: base, version: ^1}"]), repo);
  expect((await sb.run(["catalog", "index", repo])).code).toBe(0);
  expect((await sb.run(["catalog", "add", "repo", repo])).code).toBe(0);
});
afterEach(() => sb.cleanup());

describe.skipIf(!available)("with the real runtimes", () => {
  it("--version finds both runtimes through the installed packages", async () => {
    const r = await sb.run(["--version"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^pk3s \d+\.\d+\.\d+\nproductive-k3s-core \d+\.\d+\.\d+ \(.*productive-k3s-core\.js\)\nproductive-k3s-infra \d+\.\d+\.\d+ \(.*productive-k3s-infra\.js\)\n$/,
    );
  });

  it("validates, dry-runs, installs in dependency order, then skips what is installed", async () => {
    const validate = await sb.run(["addon", "validate", "app"], env);
    expect(validate.code).toBe(0);

    const dry = await sb.run(["addon", "install", "app", "--kubeconfig", KUBECONFIG, "--dry-run"], env);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain("Target cluster: https://127.0.0.1:6443");
    expect(dry.stdout).toMatch(/1\. base@1\.1\.0 .* install\n(\s+would run .*\n)+\s+2\. app@2\.0\.0 .* install\n\s+would run /);
    // One Core run for the whole plan: the cluster is probed once.
    const probed = readFileSync(env.PK3S_STUB_LOG!, "utf8")
      .split("\n")
      .filter((l) => l.includes('"version","-o","json"'));
    expect(probed).toHaveLength(1);

    const first = JSON.parse((await sb.run(["addon", "install", "app", "--kubeconfig", KUBECONFIG, "--json"], env)).stdout);
    expect(first.steps.map((s: { name: string; action: string; exitCode: number }) => `${s.name}:${s.action}:${s.exitCode}`)).toEqual([
      "base:install:0",
      "app:install:0",
    ]);
    const again = await sb.run(["addon", "install", "app", "--kubeconfig", KUBECONFIG, "--json"], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).steps.map((s: { action: string }) => s.action)).toEqual(["skip", "skip"]);
    // The dry run's skips are Core's, with its reasons.
    const dryAgain = await sb.run(["addon", "install", "app", "--kubeconfig", KUBECONFIG, "--dry-run"], env);
    expect(dryAgain.code, dryAgain.stderr).toBe(0);
    expect(dryAgain.stdout).toContain(
      "skip (installed 1.1.0): base 1.1.0 is installed on cluster https://127.0.0.1:6443 and satisfies ^1 (app)",
    );
    expect(dryAgain.stdout).toContain("skip (installed 2.0.0): app@2.0.0 is already installed");
    expect(readFileSync(env.PK3S_STUB_LOG!, "utf8")).toContain("kubectl");
  });

  it("addon template: Core renders the verified package (here with the stub helm) and prints the manifests", async () => {
    const repo = join(sb.root, "repo-chart");
    const src = await writeAddonSource(join(sb.root, "src-chart"), "web", "1.0.0", [], ["  chart:", "    path: charts/web"]);
    mkdirSync(join(src, "charts/web/templates"), { recursive: true });
    writeFileSync(join(src, "charts/web/Chart.yaml"), "apiVersion: v2\nname: web\nversion: 0.1.0\n");
    writeFileSync(join(src, "charts/web/templates/cm.yaml"), "kind: ConfigMap\n");
    mkdirSync(repo);
    await packPackage(src, repo);
    await sb.run(["catalog", "index", repo]);
    await sb.run(["catalog", "add", "charts", repo]);
    const r = await sb.run(["addon", "template", "web@1", "--set", "x=1", "-n", "apps"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-cm\n  namespace: apps\n",
    );
    const helmCalls = readFileSync(env.PK3S_STUB_LOG!, "utf8")
      .split("\n")
      .filter((l) => l.includes('"tool":"helm"'))
      .map((l) => (JSON.parse(l) as { argv: string[] }).argv);
    expect(helmCalls).toEqual([["template", "web", "./charts/web", "--namespace", "apps", "--include-crds", "--set", "x=1"]]);
  });

  it("propagates Core's exit code 4 for an incompatible cluster", async () => {
    const repo = join(sb.root, "repo2");
    mkdirSync(repo);
    await packPackage(
      await writeAddonSource(join(sb.root, "src2"), "futuristic", "1.0.0", [], ["  compatibility:", "    k3s:", '      minVersion: "9.0"']),
      repo,
    );
    await sb.run(["catalog", "index", repo]);
    await sb.run(["catalog", "add", "repo2", repo]);
    const r = await sb.run(["addon", "install", "futuristic", "--kubeconfig", KUBECONFIG], env);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("Target cluster: https://127.0.0.1:6443");
  });
});

const LOCAL_LAB = join(REPO, "fixtures/profiles/local-lab");
const CERT_MANAGER = join(REPO, "fixtures/addons/cert-manager");
const hasAnsible = (process.env.PATH ?? "").split(delimiter).some((d) => d !== "" && existsSync(join(d, "ansible-playbook")));

describe.skipIf(!available || !hasAnsible || !existsSync(LOCAL_LAB) || !existsSync(CERT_MANAGER))(
  "profile → cluster → add-on, all real",
  () => {
    it("provisions local-lab through Infra, then installs an add-on into it with --instance", { timeout: 180_000 }, async () => {
      const repo = join(sb.root, "fixture-repo");
      mkdirSync(repo);
      await packPackage(LOCAL_LAB, repo);
      await packPackage(CERT_MANAGER, repo);
      await sb.run(["catalog", "index", repo]);
      await sb.run(["catalog", "add", "fixtures", repo, "--priority", "1"]);
      const envFile = join(sb.root, "lab.env");
      const { writeFileSync } = await import("node:fs");
      writeFileSync(envFile, `LAB_DIR=${join(sb.root, "lab")}\n`);

      const missing = join(sb.root, "empty.env");
      writeFileSync(missing, "# LAB_DIR deliberately missing\n");
      expect((await sb.run(["profile", "validate", "local-lab", "--env-file", missing], env)).code).toBe(4);

      const installed = await sb.run(
        ["profile", "install", "local-lab", "--env-file", envFile, "--instance", "lab", "--auto-approve"],
        env,
      );
      expect(installed.code).toBe(0);
      const addon = await sb.run(["addon", "install", "cert-manager", "--instance", "lab", "--json"], env);
      expect(addon.stderr).toContain("Target cluster: https://127.0.0.1:6443 (context local-lab");
      expect(addon.stderr).toContain("from instance lab");
      expect(addon.code).toBe(0);
      const result = JSON.parse(addon.stdout);
      expect(result.target.kubeconfig).toBe(join(sb.root, "lab", "kubeconfig.yaml"));
      expect(result.steps.map((s: { name: string; action: string }) => `${s.name}:${s.action}`)).toEqual(["cert-manager:install"]);
    });
  },
);
