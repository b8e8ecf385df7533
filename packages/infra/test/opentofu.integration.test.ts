/**
 * The OpenTofu engine through the built binary and the tofu stub (fixtures/bin/tofu).
 */
import { spawn, spawnSync } from "node:child_process";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFixture, exists, infraBin, instanceDir, readJson, runInfra, type Sandbox, sandbox, stubCalls } from "./helpers.js";

let sb: Sandbox;
let tgz: string;
let overrides: string;

beforeAll(async () => {
  sb = await sandbox();
  tgz = await buildFixture(sb, "aws-single-node-basic");
  overrides = join(sb.dir, "aws.env");
  await writeFile(overrides, "AWS_KEY_PAIR_NAME=my-keypair\nAWS_SSH_KEY_PATH=/home/me/.ssh/key.pem\n");
});
afterAll(async () => sb.cleanup());

describe("inputs", () => {
  it("missing local-override inputs exit 4 listing them, though profile.env has placeholders", async () => {
    const r = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--auto-approve", "--instance", "missing"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("missing required inputs for profile aws-single-node-basic: AWS_KEY_PAIR_NAME, AWS_SSH_KEY_PATH");
    expect(r.stderr).toContain("Existing AWS EC2 key pair name");
    expect(r.stderr).toContain("Absolute local path to the matching private key");
    expect(r.stderr).toContain("must come from the invoking machine");
    expect(await stubCalls(sb)).toEqual([]);
    expect(await exists(instanceDir(sb, "missing"))).toBe(false);

    const json = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--require-inputs", "--json"]);
    expect(json.code).toBe(4);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; error: { code: string; problems: { path?: string }[] } };
    expect(parsed.ok).toBe(false);
    expect(parsed.error.code).toBe("E_VALIDATION");
    expect(parsed.error.problems.map((p) => p.path)).toEqual(expect.arrayContaining(["AWS_KEY_PAIR_NAME", "AWS_SSH_KEY_PATH"]));
  });

  it("validate reports the variable mapping and an undeclared TF_VAR_", async () => {
    const ok = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--env-file", overrides, "--json"]);
    expect(ok.code).toBe(0);
    const result = JSON.parse(ok.stdout) as { variables: Record<string, string>; inputs: { name: string; from: string }[] };
    expect(result.variables).toMatchObject({ region: "AWS_REGION", key_pair_name: "AWS_KEY_PAIR_NAME", cluster_name: "AWS_CLUSTER_NAME" });
    expect(result.inputs.find((i) => i.name === "AWS_KEY_PAIR_NAME")?.from).toBe(`${overrides}:1`);

    const bad = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--env-file", overrides, "--set", "TF_VAR_not_declared=1"]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('TF_VAR_not_declared sets variable "not_declared", which the scenario does not declare');
  });

  it("a missing tofu exits 5 naming it; no terminal and no --auto-approve exits 2", async () => {
    const missing = await runInfra(sb, ["profile", "plan", "--tgz", tgz, "--env-file", overrides, "--instance", "notool"], {
      env: { PK3S_TOFU_BIN: undefined, PATH: "/nonexistent" },
    });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("tofu is not installed");
    const noApprove = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", overrides, "--instance", "noapprove"]);
    expect(noApprove.code).toBe(2);
    expect(noApprove.stderr).toContain("--auto-approve");
    expect(await exists(instanceDir(sb, "noapprove"))).toBe(false);
  });
});

describe("plan and install", () => {
  it("plan then install applies the saved plan; install after an input change plans again", async () => {
    const before = (await stubCalls(sb)).length;
    const plan = await runInfra(sb, ["profile", "plan", "--tgz", tgz, "--env-file", overrides, "--instance", "p1", "--json"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({ instance: "p1", changes: { add: 1, change: 0, destroy: 0 } });

    const dir = instanceDir(sb, "p1");
    const engine = join(dir, "engine");
    const planCalls = (await stubCalls(sb)).slice(before);
    expect(planCalls.map((c) => c.argv)).toEqual([
      ["init", "-input=false", "-no-color"],
      ["plan", "-input=false", "-no-color", `-state=${engine}/terraform.tfstate`, `-out=${engine}/plan.tfplan`],
      ["show", "-json", "-no-color", `${engine}/plan.tfplan`],
    ]);
    for (const call of planCalls) {
      expect(call.env.TF_DATA_DIR).toBe(`${engine}/tf-data`);
      expect(call.env).toMatchObject({
        TF_VAR_region: "us-east-1",
        TF_VAR_key_pair_name: "my-keypair",
        TF_VAR_cluster_name: "productive-k3s-aws",
        TF_IN_AUTOMATION: "1",
      });
      expect(call.cwd).not.toContain(sb.state);
    }
    expect(await exists(join(engine, "plan.tfplan"))).toBe(true);
    const lockFile = await readFile(join(engine, ".terraform.lock.hcl"), "utf8");
    expect(lockFile).toContain("stub lock created");

    const mid = (await stubCalls(sb)).length;
    const install = await runInfra(sb, [
      "profile",
      "install",
      "--tgz",
      tgz,
      "--env-file",
      overrides,
      "--instance",
      "p1",
      "--auto-approve",
      "--json",
    ]);
    expect(install.code, install.stderr).toBe(0);
    const result = JSON.parse(install.stdout) as { appliedSavedPlan: boolean; outputs: Record<string, unknown>; status: string };
    expect(result.appliedSavedPlan).toBe(true);
    expect(result.status).toBe("installed");
    expect(result.outputs).toMatchObject({ cluster_name: "productive-k3s-aws", region: "us-east-1", k3s_token: "***", bootstrap: "done" });
    expect(install.stderr).toContain("applying the plan saved by run");
    expect((await stubCalls(sb)).slice(mid).map((c) => c.argv[0])).toEqual(["init", "apply", "output"]);
    expect((await stubCalls(sb)).slice(mid)[1]?.argv).toEqual([
      "apply",
      "-input=false",
      "-no-color",
      `-state=${engine}/terraform.tfstate`,
      `${engine}/plan.tfplan`,
    ]);
    expect(await exists(join(engine, "plan.tfplan"))).toBe(false);
    expect(await exists(join(engine, "terraform.tfstate"))).toBe(true);

    // State: sensitive outputs apart, package copy, status.
    const record = await readJson<{ status: string; outputs: Record<string, unknown>; sensitiveOutputs: string[]; digest: string }>(
      join(dir, "instance.json"),
    );
    expect(record.status).toBe("installed");
    expect(record.outputs.k3s_token).toBeUndefined();
    expect(record.sensitiveOutputs).toEqual(["k3s_token"]);
    expect(await readJson(join(dir, "outputs.sensitive.json"))).toEqual({ k3s_token: "stub-k3s-token" });
    expect(await exists(join(dir, "package.tgz"))).toBe(true);
    // Directories 0700, files 0600.
    const mode = async (p: string) => (await stat(p)).mode & 0o777;
    for (const d of [dir, engine, join(dir, "runs")]) expect(await mode(d)).toBe(0o700);
    const runFiles = (await readdir(join(dir, "runs"))).map((f) => join(dir, "runs", f));
    expect(runFiles.length).toBeGreaterThanOrEqual(4);
    for (const f of [
      join(dir, "instance.json"),
      join(dir, "package.tgz"),
      join(dir, "outputs.sensitive.json"),
      join(engine, "inputs.key"),
      ...runFiles,
    ]) {
      expect(await mode(f), f).toBe(0o600);
    }

    const outputs = await runInfra(sb, ["profile", "outputs", "--instance", "p1", "--json"]);
    expect(JSON.parse(outputs.stdout)).toMatchObject({ instance: "p1", outputs: { k3s_token: "***", region: "us-east-1" } });
    const shown = await runInfra(sb, ["profile", "outputs", "--instance", "p1", "--json", "--show-sensitive"]);
    expect(JSON.parse(shown.stdout).outputs.k3s_token).toBe("stub-k3s-token");

    // New plan, then the inputs change: install plans again.
    expect((await runInfra(sb, ["profile", "plan", "--tgz", tgz, "--env-file", overrides, "--instance", "p1"])).code).toBe(0);
    const again = (await stubCalls(sb)).length;
    const changed = await runInfra(sb, [
      "profile",
      "install",
      "--tgz",
      tgz,
      "--env-file",
      overrides,
      "--set",
      "AWS_INSTANCE_TYPE=t3a.large",
      "--instance",
      "p1",
      "--yes",
      "--json",
    ]);
    expect(changed.code, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ appliedSavedPlan: false, changes: { add: 0, change: 1, destroy: 0 } });
    expect(changed.stderr).toContain("changed since the saved plan: planning again");
    const calls = (await stubCalls(sb)).slice(again);
    expect(calls.map((c) => c.argv[0])).toEqual(["init", "plan", "show", "apply", "output"]);
    expect(calls[1]?.env.TF_VAR_instance_type).toBe("t3a.large");
    // The dependency lock file written by the first init was kept in the engine dir and restored for later inits.
    expect(await readFile(join(engine, ".terraform.lock.hcl"), "utf8")).toBe(lockFile);

    const status = await runInfra(sb, ["profile", "status", "--instance", "p1", "--json"]);
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: "installed",
      resources: 1,
      engine: "opentofu",
      inputs: { AWS_INSTANCE_TYPE: "t3a.large" },
    });

    // A plan with other values keeps the installed inputs (destroy reuses those) and stays `installed`.
    const other = await runInfra(sb, [
      "profile",
      "plan",
      "--tgz",
      tgz,
      "--env-file",
      overrides,
      "--set",
      "AWS_INSTANCE_TYPE=m5.large",
      "--instance",
      "p1",
    ]);
    expect(other.code, other.stderr).toBe(0);
    const afterPlan = JSON.parse((await runInfra(sb, ["profile", "status", "--instance", "p1", "--json"])).stdout) as {
      status: string;
      inputs: Record<string, string>;
      plan: { changes: object };
    };
    expect(afterPlan.status).toBe("installed");
    expect(afterPlan.inputs.AWS_INSTANCE_TYPE).toBe("t3a.large");
    expect(afterPlan.plan.changes).toEqual({ add: 0, change: 1, destroy: 0 });
  });

  it("two instances of the same profile keep separate state; destroying one leaves the other", async () => {
    for (const name of ["east", "west"]) {
      const region = name === "east" ? "us-east-1" : "us-west-2";
      const r = await runInfra(sb, [
        "profile",
        "install",
        "--tgz",
        tgz,
        "--env-file",
        overrides,
        "--set",
        `AWS_REGION=${region}`,
        "--instance",
        name,
        "--yes",
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const east = instanceDir(sb, "east");
    const west = instanceDir(sb, "west");
    const eastState = await readJson<{ outputs: { region: { value: string } } }>(join(east, "engine/terraform.tfstate"));
    const westState = await readJson<{ outputs: { region: { value: string } } }>(join(west, "engine/terraform.tfstate"));
    expect(eastState.outputs.region.value).toBe("us-east-1");
    expect(westState.outputs.region.value).toBe("us-west-2");

    const before = (await stubCalls(sb)).length;
    // destroy works from the stored package: no --tgz, and the local-override inputs come from the stored values.
    const destroy = await runInfra(sb, ["profile", "destroy", "--instance", "east", "--auto-approve", "--json"]);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(JSON.parse(destroy.stdout)).toMatchObject({ instance: "east", status: "destroyed", purged: false });
    const destroyCall = (await stubCalls(sb)).slice(before).find((c) => c.argv[0] === "destroy");
    expect(destroyCall?.argv).toEqual(["destroy", "-auto-approve", "-input=false", "-no-color", `-state=${east}/engine/terraform.tfstate`]);
    expect(destroyCall?.env.TF_VAR_key_pair_name).toBe("my-keypair");

    const eastAfter = await readJson<{ resources: unknown[] }>(join(east, "engine/terraform.tfstate"));
    expect(eastAfter.resources).toEqual([]);
    const westAfter = await readJson<{ resources: unknown[] }>(join(west, "engine/terraform.tfstate"));
    expect(westAfter.resources).toHaveLength(1);

    const list = JSON.parse((await runInfra(sb, ["profile", "list", "--json"])).stdout) as {
      instances: { instance: string; status: string }[];
    };
    expect(list.instances.find((i) => i.instance === "east")?.status).toBe("destroyed");
    expect(list.instances.find((i) => i.instance === "west")?.status).toBe("installed");

    // State kept until --purge.
    expect(await exists(join(east, "instance.json"))).toBe(true);
    const purge = await runInfra(sb, ["profile", "destroy", "--instance", "east", "--auto-approve", "--purge"]);
    expect(purge.code, purge.stderr).toBe(0);
    expect(await exists(east)).toBe(false);
    expect(await exists(join(west, "instance.json"))).toBe(true);
    const gone = await runInfra(sb, ["profile", "status", "--instance", "east"]);
    expect(gone.code).toBe(3);
  });

  it("a failing engine step exits 1, names the step and marks the instance failed", async () => {
    const r = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", overrides, "--instance", "broken", "--yes"], {
      env: { STUB_TOFU_FAIL: "apply" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("apply failed with exit code 1");
    expect(r.stderr).toContain("stub: apply failed");
    const status = JSON.parse((await runInfra(sb, ["profile", "status", "--instance", "broken", "--json"])).stdout) as {
      status: string;
      lastRun: { status: string; exitCode: number };
    };
    expect(status.status).toBe("failed");
    expect(status.lastRun).toMatchObject({ status: "failed", exitCode: 1 });
  });

  it("status --tgz uses the profile name as the instance", async () => {
    const r = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", overrides, "--yes"]);
    expect(r.code, r.stderr).toBe(0);
    const status = await runInfra(sb, ["profile", "status", "--tgz", tgz]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("instance:  aws-single-node-basic");
    expect(status.stdout).toContain("status:    installed");
  });
});

const hasScript = spawnSync("sh", ["-c", "command -v script"], { encoding: "utf8" }).status === 0;

/** Run the binary on a pseudo-terminal (util-linux `script`), typing `answer`. */
function onTerminal(args: string[], answer: string): Promise<{ code: number; output: string }> {
  const command = [process.execPath, "--", infraBin, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return new Promise((resolvePromise) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(TF_|AWS_|PK3S_|STUB_)/.test(k)) env[k] = v;
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: sb.dir,
      env: { ...env, ...sb.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.stdin.end(answer);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, output }));
  });
}

describe.skipIf(!hasScript)("confirmation on a terminal", () => {
  it("asks 'Apply? [y/N]': no cancels (exit 1, nothing applied), yes applies the saved plan", async () => {
    const args = ["profile", "install", "--tgz", tgz, "--env-file", overrides, "--instance", "tty"];
    const no = await onTerminal(args, "n\n");
    expect(no.output).toContain("Apply? [y/N]");
    expect(no.output).toContain("install cancelled: not confirmed");
    expect(no.code).toBe(1);
    expect(await exists(join(instanceDir(sb, "tty"), "engine/terraform.tfstate"))).toBe(false);
    const yes = await onTerminal(args, "y\n");
    expect(yes.code, yes.output).toBe(0);
    expect(yes.output).toContain("applying the plan saved by run");
    expect(yes.output).toContain("installed instance tty");
  });
});
