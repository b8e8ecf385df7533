/**
 * The local-lab profile runs for real through the real ansible-playbook
 * (generated localhost inventory, connection local).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFixture, exists, fixturesDir, hasAnsible, instanceDir, runInfra, type Sandbox, sandbox } from "./helpers.js";

let sb: Sandbox;

beforeAll(async () => {
  sb = await sandbox();
});
afterAll(async () => sb.cleanup());

describe.skipIf(!hasAnsible)("local-lab (real ansible-playbook)", { timeout: 120_000 }, () => {
  it("installs, reports outputs through status/outputs, plans with --check, destroys", async () => {
    const tgz = await buildFixture(sb, "local-lab");
    const envFile = join(sb.dir, "lab.env");
    // A relative LAB_DIR resolves against the directory the command runs in (here sb.dir).
    await writeFile(envFile, "LAB_DIR=./my-lab\nLAB_NODE_COUNT=2\n");
    const install = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", envFile, "--yes", "--json"]);
    expect(install.code, install.stderr).toBe(0);
    const labDir = join(sb.dir, "my-lab");
    const result = JSON.parse(install.stdout) as { instance: string; outputs: Record<string, unknown> };
    expect(result.instance).toBe("local-lab");
    expect(result.outputs).toEqual({
      lab_dir: labDir,
      kubeconfig: join(labDir, "kubeconfig.yaml"),
      context: "local-lab",
      server: "https://127.0.0.1:6443",
      cluster_name: "local-lab",
      node_count: 2,
    });
    // Real work happened.
    expect(await exists(join(labDir, "nodes/node-0.yaml"))).toBe(true);
    expect(await exists(join(labDir, "nodes/node-1.yaml"))).toBe(true);
    expect(await exists(join(labDir, "nodes/node-2.yaml"))).toBe(false);
    const kubeconfig = await readFile(join(labDir, "kubeconfig.yaml"), "utf8");
    expect(kubeconfig).toContain("server: https://127.0.0.1:6443");
    expect(kubeconfig).toContain("current-context: local-lab");
    // The tool's output is in the run log; the run record has the step events.
    expect(install.stderr).toContain("[apply] PLAY [Lay out the local lab]");

    const status = await runInfra(sb, ["profile", "status", "--instance", "local-lab", "--json"]);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as {
      status: string;
      engine: string;
      outputs: Record<string, unknown>;
      lastRun: { action: string; log: string; record: string };
    };
    expect(s).toMatchObject({
      status: "installed",
      engine: "ansible",
      outputs: { kubeconfig: join(labDir, "kubeconfig.yaml"), node_count: 2 },
    });
    const log = await readFile(s.lastRun.log, "utf8");
    expect(log).toContain("TASK [Write the kubeconfig]");
    const events = (await readFile(s.lastRun.record, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; step?: string; exitCode?: number; correlationId: string });
    expect(events.map((e) => `${e.event}${e.step ? `:${e.step}` : ""}`)).toEqual([
      "command.started",
      "step.started:apply",
      "step.completed:apply",
      "command.completed",
    ]);
    expect(events.at(-1)?.exitCode).toBe(0);
    const human = await runInfra(sb, ["profile", "status", "--instance", "local-lab"]);
    expect(human.stdout).toContain(`kubeconfig = ${join(labDir, "kubeconfig.yaml")}`);

    // pk3s reads the kubeconfig from here.
    const outputs = JSON.parse((await runInfra(sb, ["profile", "outputs", "--instance", "local-lab", "--json"])).stdout) as {
      instance: string;
      outputs: { kubeconfig: string };
    };
    expect(outputs).toMatchObject({ instance: "local-lab", outputs: { kubeconfig: join(labDir, "kubeconfig.yaml") } });

    const plan = await runInfra(sb, ["profile", "plan", "--tgz", tgz, "--env-file", envFile, "--json"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain("[plan] PLAY [Lay out the local lab]");
    const afterPlan = JSON.parse((await runInfra(sb, ["profile", "status", "--instance", "local-lab", "--json"])).stdout) as {
      status: string;
    };
    expect(afterPlan.status).toBe("installed");

    // destroy runs destroy.yml from the stored package (no --tgz), with the stored outputs.
    const destroy = await runInfra(sb, ["profile", "destroy", "--instance", "local-lab", "--yes"], { cwd: fixturesDir });
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(await exists(labDir)).toBe(false);
    const gone = JSON.parse((await runInfra(sb, ["profile", "status", "--instance", "local-lab", "--json"])).stdout) as {
      status: string;
      outputs: object;
    };
    expect(gone).toMatchObject({ status: "destroyed", outputs: {} });
    expect(await exists(join(instanceDir(sb, "local-lab"), "instance.json"))).toBe(true);
  }, 120_000); // several real ansible-playbook runs: seconds each, far more on a loaded machine

  it("a failing playbook exits 1 with the task's error", async () => {
    const tgz = await buildFixture(sb, "local-lab");
    const r = await runInfra(sb, [
      "profile",
      "install",
      "--tgz",
      tgz,
      "--set",
      `LAB_DIR=${join(sb.dir, "bad")}`,
      "--set",
      "LAB_NODE_COUNT=99",
      "--instance",
      "bad-lab",
      "--yes",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("apply failed with exit code 2");
    expect(r.stderr).toContain("LAB_NODE_COUNT must be between 1 and 20");
  });
});

describe("ansible engine without ansible-playbook", () => {
  it("exits 5 naming the tool", async () => {
    const tgz = await buildFixture(sb, "local-lab");
    const r = await runInfra(
      sb,
      ["profile", "install", "--tgz", tgz, "--set", `LAB_DIR=${join(sb.dir, "x")}`, "--instance", "no-ansible", "--yes"],
      {
        env: { PK3S_ANSIBLE_PLAYBOOK_BIN: join(sb.dir, "no-such-ansible-playbook") },
      },
    );
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("ansible-playbook not found");
    expect(await exists(instanceDir(sb, "no-ansible"))).toBe(false);
    // validate still works, with a warning.
    const v = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--set", "LAB_DIR=/tmp/x", "--json"], {
      env: { PK3S_ANSIBLE_PLAYBOOK_BIN: join(sb.dir, "no-such-ansible-playbook") },
    });
    expect(v.code).toBe(0);
    expect(v.stderr).toContain("plan/install/destroy will fail until it is installed");
  });
});
