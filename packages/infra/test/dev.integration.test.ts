/**
 * The development surface on the source layout of shared/compat and fixtures/profiles-src.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compatRoot, fixturesDir, hasAnsible, runInfra, type Sandbox, sandbox, sourceProfiles, stubCalls } from "./helpers.js";

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(async () => sb.cleanup());

/** An env file giving every local-override input of a source profile (from its sidecar). */
async function localOverrides(envFile: string): Promise<string> {
  const sidecar = await readFile(envFile.replace(/\.env$/, ".package.yaml"), "utf8");
  const { parse } = await import("yaml");
  const inputs = (parse(sidecar) as { inputs: { name: string; source: string }[] }).inputs;
  const lines = inputs.filter((i) => i.source === "local-override").map((i) => `${i.name}=local-value-for-${i.name.toLowerCase()}`);
  const file = join(sb.dir, `${relative(compatRoot, envFile).replace(/[/.]/g, "_")}.local.env`);
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

describe("dev profile", () => {
  it("every profile in shared/compat passes dev profile validate given its local-override inputs", async () => {
    const profiles = await sourceProfiles(compatRoot);
    expect(profiles.length).toBeGreaterThanOrEqual(4);
    for (const envFile of profiles) {
      const r = await runInfra(sb, [
        "dev",
        "profile",
        "validate",
        "--profile-env",
        envFile,
        "--env-file",
        await localOverrides(envFile),
        "--json",
      ]);
      expect(r.code, `${envFile}\n${r.stderr}`).toBe(0);
      const result = JSON.parse(r.stdout) as { ok: boolean; inputs: { name: string; provided: boolean }[] };
      expect(result.ok).toBe(true);
      expect(result.inputs.every((i) => i.provided)).toBe(true);
    }
  });

  it("without the local overrides, dev validate --require-inputs exits 4 naming them", async () => {
    const r = await runInfra(sb, [
      "dev",
      "profile",
      "validate",
      "--profile-env",
      join(compatRoot, "profiles/edge/on-prem/basic.env"),
      "--require-inputs",
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("ONPREM_SERVER_IP, ONPREM_AGENT_IPS, ONPREM_SSH_KEY_PATH");
  });

  it("package is deterministic and embeds profile.yaml, profile.env and the scenario", async () => {
    const envFile = join(compatRoot, "profiles/cloud/aws-single-node/basic.env");
    const a = JSON.parse(
      (await runInfra(sb, ["dev", "profile", "package", "--profile-env", envFile, "--out", join(sb.dir, "out-a"), "--json"])).stdout,
    ) as { file: string; digest: string; name: string };
    const b = JSON.parse(
      (await runInfra(sb, ["dev", "profile", "package", "--profile-env", envFile, "--out", join(sb.dir, "out-b"), "--json"])).stdout,
    ) as { file: string; digest: string };
    expect(a.name).toBe("aws-single-node-basic");
    expect(a.digest).toBe(b.digest);
    expect(await readFile(a.file)).toEqual(await readFile(b.file));
    const { inspectPackage } = await import("@productive-k3s/pkg-format");
    const inspected = await inspectPackage(a.file);
    expect(inspected.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(["profile.yaml", "profile.env", "scenario/opentofu/variables.tf", "checksums.sha256"]),
    );
    expect(inspected.manifest).toMatchObject({
      metadata: { name: "aws-single-node-basic", category: "cloud" },
      spec: { scenario: { type: "aws-single-node" }, engine: { type: "opentofu", workingDir: "scenario/opentofu" } },
    });
    // The package validates as a profile.tgz with the public command.
    const overrides = await localOverrides(envFile);
    const v = await runInfra(sb, ["profile", "validate", "--tgz", a.file, "--env-file", overrides]);
    expect(v.code, v.stderr).toBe(0);
  });

  it("dev profile plan runs exactly the package flow (tofu stub)", async () => {
    const envFile = join(compatRoot, "profiles/local/multipass/1-server-2-agents.env");
    const r = await runInfra(sb, ["dev", "profile", "plan", "--profile-env", envFile, "--instance", "mp", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const plan = (await stubCalls(sb)).find((c) => c.argv[0] === "plan");
    expect(plan?.env).toMatchObject({ TF_VAR_cluster_name: "productive-k3s-mp", TF_VAR_server_cpus: "4" });
  });

  it("a missing profile env file exits 3", async () => {
    const r = await runInfra(sb, ["dev", "profile", "validate", "--profile-env", join(sb.dir, "nope.env")]);
    expect(r.code).toBe(3);
  });

  it.skipIf(!hasAnsible)("dev profile apply / destroy on fixtures/profiles-src (real ansible)", async () => {
    const envFile = join(fixturesDir, "profiles-src/profiles/local/local-lab/lab.env");
    const lab = join(sb.dir, "dev-lab");
    const apply = await runInfra(sb, [
      "dev",
      "profile",
      "apply",
      "--profile-env",
      envFile,
      "--set",
      `LAB_DIR=${lab}`,
      "--instance",
      "dev-lab",
      "--auto-approve",
      "--json",
    ]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(JSON.parse(apply.stdout)).toMatchObject({ instance: "dev-lab", status: "installed", outputs: { lab_dir: lab, node_count: 3 } });
    const destroy = await runInfra(sb, [
      "dev",
      "profile",
      "destroy",
      "--profile-env",
      envFile,
      "--instance",
      "dev-lab",
      "--auto-approve",
      "--purge",
      "--json",
    ]);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(JSON.parse(destroy.stdout)).toMatchObject({ status: "purged" });
  });
});
