/**
 * One runtime view across the two runtimes, through the built binaries: `profile status` shows the add-ons
 * the real productive-k3s-core installed on the instance's cluster (Core's `addon list --json`, read with
 * the shared schema); `profile destroy` refuses while Core has records for that cluster, and
 * `--with-addons` / `--forget-addons` deal with them through Core. Helm and kubectl are the stubs (no live
 * API server here); the cluster is the local-lab profile's kubeconfig.
 */
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { CoreAddonList, InfraProfileOutputs, InfraProfileStatus } from "@productive-k3s/pkg-format/runtime-documents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildFixture,
  type CliResult,
  fixturesDir,
  hasAnsible,
  instanceDir,
  repoRoot,
  runBuiltCli,
  runInfra,
  type Sandbox,
  sandbox,
  stubCalls,
} from "./helpers.js";

const coreBin = join(repoRoot, "packages/core/dist/cli/productive-k3s-core.js");
/** A kubeconfig for the lab's API server URL (https://127.0.0.1:6443), which outlives the lab's own. */
const sameCluster = join(fixturesDir, "kubeconfig/k3s.yaml");

/** Several real ansible-playbook and Core runs per test: seconds each, more on a loaded machine. */
const SLOW = 120_000;

let sb: Sandbox;
let lab: string;
let packages: { certManager: string; longhorn: string };

function core(args: string[]): Promise<CliResult> {
  return runBuiltCli(coreBin, sb, args);
}

async function corePackage(name: string): Promise<string> {
  const r = await core([
    "dev",
    "addon",
    "package",
    "--source",
    join(fixturesDir, "addons", name),
    "--out",
    join(sb.dir, "addons"),
    "--json",
  ]);
  if (r.code !== 0) throw new Error(`packing ${name}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { file: string }).file;
}

/** Install the local-lab profile as `instance` and the two add-ons on its cluster through Core. */
async function labWithAddons(instance: string): Promise<string> {
  const dir = join(sb.dir, instance);
  const install = await runInfra(sb, ["profile", "install", "--tgz", lab, "--instance", instance, "--set", `LAB_DIR=${dir}`, "--yes"]);
  expect(install.code, install.stderr).toBe(0);
  const kubeconfig = join(dir, "kubeconfig.yaml");
  for (const tgz of [packages.certManager, packages.longhorn]) {
    const r = await core(["addon", "install", "--tgz", tgz, "--kubeconfig", kubeconfig]);
    expect(r.code, r.stderr).toBe(0);
  }
  return kubeconfig;
}

async function status(instance: string, env: Record<string, string | undefined> = {}): Promise<InfraProfileStatus> {
  const r = await runInfra(sb, ["profile", "status", "--instance", instance, "--json"], { env });
  expect(r.code, r.stderr).toBe(0);
  return InfraProfileStatus.parse(JSON.parse(r.stdout));
}

beforeAll(async () => {
  sb = await sandbox({
    PK3S_CORE_BIN: coreBin,
    PK3S_HELM_BIN: join(fixturesDir, "bin/helm"),
    PK3S_KUBECTL_BIN: join(fixturesDir, "bin/kubectl"),
  });
  sb.env.STUB_HELM_STATE_DIR = join(sb.dir, "helm-state");
  await mkdir(sb.env.STUB_HELM_STATE_DIR, { recursive: true });
  lab = await buildFixture(sb, "local-lab");
  packages = { certManager: await corePackage("cert-manager"), longhorn: await corePackage("longhorn") };
}, 60_000);
afterAll(async () => sb.cleanup());

describe.skipIf(!hasAnsible)("one runtime view: Infra instances and Core add-ons", () => {
  it(
    "status shows what Core installed on the instance's cluster; both documents conform to the shared schemas",
    async () => {
      const dir = join(sb.dir, "view");
      const install = await runInfra(sb, ["profile", "install", "--tgz", lab, "--instance", "view", "--set", `LAB_DIR=${dir}`, "--yes"]);
      expect(install.code, install.stderr).toBe(0);
      const empty = await status("view");
      expect(empty.addons).toEqual({ cluster: { server: "https://127.0.0.1:6443", context: "local-lab" }, items: [] });
      const human = await runInfra(sb, ["profile", "status", "--instance", "view"]);
      expect(human.stdout).toContain("add-ons:   none installed through productive-k3s-core");

      const kubeconfig = join(dir, "kubeconfig.yaml");
      for (const tgz of [packages.certManager, packages.longhorn]) {
        const r = await core(["addon", "install", "--tgz", tgz, "--kubeconfig", kubeconfig]);
        expect(r.code, r.stderr).toBe(0);
      }
      // Core's document, exactly as the schema describes it: nothing the schema does not know is dropped.
      const listed = await core(["addon", "list", "--kubeconfig", kubeconfig, "--json"]);
      const raw = JSON.parse(listed.stdout) as unknown;
      expect(CoreAddonList.parse(raw)).toEqual(raw);

      const view = await status("view");
      expect(view.addons?.items).toEqual([
        { name: "cert-manager", version: "1.2.0", status: "deployed", namespace: "cert-manager", dependencies: [] },
        {
          name: "longhorn",
          version: "1.0.0",
          status: "deployed",
          namespace: "longhorn-system",
          release: "longhorn",
          dependencies: ["cert-manager"],
        },
      ]);
      const rawStatus = JSON.parse((await runInfra(sb, ["profile", "status", "--instance", "view", "--json"])).stdout) as unknown;
      expect(InfraProfileStatus.parse(rawStatus)).toEqual(rawStatus);
      const rawOutputs = JSON.parse((await runInfra(sb, ["profile", "outputs", "--instance", "view", "--json"])).stdout) as unknown;
      expect(InfraProfileOutputs.parse(rawOutputs)).toEqual(rawOutputs);
      const text = (await runInfra(sb, ["profile", "status", "--instance", "view"])).stdout;
      expect(text).toContain("add-ons:   on https://127.0.0.1:6443 (productive-k3s-core)");
      expect(text).toContain("  longhorn 1.0.0 deployed (namespace longhorn-system, needs cert-manager)");

      // Without Core the add-ons are unknown: a note, not a failure.
      const noCore = await status("view", { PK3S_CORE_BIN: join(sb.dir, "no-such-core") });
      expect(noCore.addons).toBeUndefined();
      expect(noCore.addonsNote).toBe(
        `productive-k3s-core was not found at ${join(sb.dir, "no-such-core")} (from PK3S_CORE_BIN): the add-ons on the cluster are unknown`,
      );
    },
    SLOW,
  );

  it(
    "destroy refuses (exit 4, with the list) while Core has add-on records for the cluster",
    async () => {
      const r = await runInfra(sb, ["profile", "destroy", "--instance", "view", "--yes", "--json"]);
      expect(r.code).toBe(4);
      const doc = JSON.parse(r.stdout) as {
        ok: boolean;
        error: { message: string; hint: string; problems: { path: string; message: string }[] };
      };
      expect(doc.error.message).toBe(
        "instance view's cluster still has add-ons installed through productive-k3s-core: cert-manager, longhorn",
      );
      expect(doc.error.problems).toEqual([
        expect.objectContaining({
          path: "cert-manager",
          message: "cert-manager 1.2.0 (deployed) in namespace cert-manager on https://127.0.0.1:6443",
        }),
        expect.objectContaining({
          path: "longhorn",
          message: "longhorn 1.0.0 (deployed) in namespace longhorn-system on https://127.0.0.1:6443",
        }),
      ]);
      expect(doc.error.hint).toContain("--with-addons");
      expect((await status("view")).status).toBe("installed");
      expect((await runInfra(sb, ["profile", "destroy", "--instance", "view", "--yes", "--with-addons", "--forget-addons"])).code).toBe(2);
    },
    SLOW,
  );

  it(
    "--with-addons uninstalls them through Core first, dependents first, then destroys",
    async () => {
      const r = await runInfra(sb, ["profile", "destroy", "--instance", "view", "--yes", "--with-addons", "--json"]);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { addons: unknown }).addons).toEqual({ action: "uninstalled", names: ["longhorn", "cert-manager"] });
      expect((await stubCalls(sb)).filter((c) => c.tool === "helm" && c.argv[0] === "uninstall").map((c) => c.argv[1])).toEqual([
        "longhorn",
      ]);
      // The lab's kubeconfig went with the lab; Core keys its records by the API server URL, which this one shares.
      const after = JSON.parse((await core(["addon", "list", "--kubeconfig", sameCluster, "--json"])).stdout);
      expect(after.addons).toEqual([]);
      // Each Core call is a step of the destroy run, before the engine's destroy.
      const summary = (await status("view")).lastRun;
      const events = (await readFile(summary?.record as string, "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: string; step?: string })
        .filter((e) => e.event === "step.started")
        .map((e) => e.step);
      expect(events).toEqual(["addon-uninstall longhorn", "addon-uninstall cert-manager", "destroy"]);
    },
    SLOW,
  );

  it(
    "--forget-addons drops Core's records through `addon forget`, leaving the cluster alone",
    async () => {
      await labWithAddons("forget");
      const uninstalls = async () => (await stubCalls(sb)).filter((c) => c.tool === "helm" && c.argv[0] === "uninstall").length;
      const before = await uninstalls();
      const r = await runInfra(sb, ["profile", "destroy", "--instance", "forget", "--yes", "--forget-addons"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("forgotten add-ons through productive-k3s-core: longhorn, cert-manager");
      expect(await uninstalls()).toBe(before);
      expect(JSON.parse((await core(["addon", "list", "--kubeconfig", sameCluster, "--json"])).stdout).addons).toEqual([]);
      const ghost = await core(["addon", "forget", "longhorn", "--kubeconfig", sameCluster]);
      expect(ghost.code).toBe(3);
      await rm(instanceDir(sb, "forget"), { recursive: true, force: true });
    },
    SLOW,
  );
});
