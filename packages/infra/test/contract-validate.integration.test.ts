/**
 * `validate` without values checks the contract (CI): every compat profile passes as the seed's literal
 * command runs it, listing the local-override inputs an install needs; `--require-inputs` (or values)
 * demands them as install does.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { bashScript, compatRoot, packTestProfile, runInfra, type Sandbox, sandbox, sourceProfiles } from "./helpers.js";

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(async () => sb.cleanup());

interface Sidecar {
  inputs: { name: string; source: string; required: boolean }[];
}

interface ValidateDoc {
  ok: boolean;
  mode: string;
  engine: string;
  target: { kind: string; summary: string };
  needs: { name: string; required: boolean; source: string }[];
  warnings: { message: string }[];
}

describe("contract validation (no values)", () => {
  it("the seed's literal command passes, run from the compat root", async () => {
    const r = await runInfra(sb, ["dev", "profile", "validate", "--profile-env", "./profiles/cloud/aws-single-node/basic.env"], {
      cwd: compatRoot,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("the contract of aws-single-node-basic 0.0.0-dev is valid");
    expect(r.stdout).toContain("an install needs from the invoking machine (--env-file or --set): AWS_KEY_PAIR_NAME, AWS_SSH_KEY_PATH");
    // The placeholders of local-override inputs are the contract, not a problem.
    expect(r.stderr).not.toContain("placeholder");
  });

  it("every compat profile passes without env files, listing exactly its local-override inputs", async () => {
    const profiles = await sourceProfiles(compatRoot);
    expect(profiles.length).toBeGreaterThanOrEqual(4);
    for (const envFile of profiles) {
      const rel = `./${relative(compatRoot, envFile)}`;
      const r = await runInfra(sb, ["dev", "profile", "validate", "--profile-env", rel, "--json"], { cwd: compatRoot });
      expect(r.code, `${rel}\n${r.stderr}`).toBe(0);
      const doc = JSON.parse(r.stdout) as ValidateDoc;
      const sidecar = parse(await readFile(envFile.replace(/\.env$/, ".package.yaml"), "utf8")) as Sidecar;
      expect(doc.ok).toBe(true);
      expect(doc.mode).toBe("contract");
      expect(
        doc.needs.map((n) => n.name),
        rel,
      ).toEqual(sidecar.inputs.filter((i) => i.source === "local-override").map((i) => i.name));
      expect(doc.needs.every((n) => n.source === "local-override" && n.required)).toBe(true);
      if (doc.engine === "ansible") {
        // The compat on-prem sidecars declare no inventory: local by declaration, and said so.
        expect(doc.target).toEqual({ kind: "this-machine", summary: expect.stringContaining("runs on this machine") });
      } else {
        expect(doc.target.kind).toBe("remote");
      }
    }
  });

  it("--require-inputs demands the values, as install does (exit 4 naming them)", async () => {
    const r = await runInfra(
      sb,
      ["dev", "profile", "validate", "--profile-env", "./profiles/cloud/aws-single-node/basic.env", "--require-inputs", "--json"],
      { cwd: compatRoot },
    );
    expect(r.code).toBe(4);
    const doc = JSON.parse(r.stdout) as { ok: boolean; error: { message: string; problems: { path?: string }[] } };
    expect(doc.ok).toBe(false);
    expect(doc.error.message).toBe("missing required inputs for profile aws-single-node-basic: AWS_KEY_PAIR_NAME, AWS_SSH_KEY_PATH");
    expect(doc.error.problems.map((p) => p.path)).toEqual(["AWS_KEY_PAIR_NAME", "AWS_SSH_KEY_PATH"]);
  });

  it("profile validate --tgz checks the packaged contract the same way; an --env-file demands values", async () => {
    const out = join(sb.dir, "packed");
    const packed = await runInfra(
      sb,
      ["dev", "profile", "package", "--profile-env", "./profiles/edge/on-prem/basic.env", "--out", out, "--json"],
      { cwd: compatRoot },
    );
    expect(packed.code, packed.stderr).toBe(0);
    const tgz = (JSON.parse(packed.stdout) as { file: string }).file;
    const contract = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--json"]);
    expect(contract.code, contract.stderr).toBe(0);
    expect((JSON.parse(contract.stdout) as ValidateDoc).needs.map((n) => n.name)).toEqual([
      "ONPREM_SERVER_IP",
      "ONPREM_AGENT_IPS",
      "ONPREM_SSH_KEY_PATH",
    ]);
    const human = await runInfra(sb, ["profile", "validate", "--tgz", tgz]);
    expect(human.stdout).toContain(
      "target: runs on this machine: the profile declares no spec.engine.inventory, so the playbook connects to localhost",
    );
    const partial = join(sb.dir, "partial.env");
    await writeFile(partial, "ONPREM_SERVER_IP=10.0.0.5\n");
    const withValues = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--env-file", partial]);
    expect(withValues.code).toBe(4);
    expect(withValues.stderr).toContain("missing required inputs for profile on-prem-basic: ONPREM_AGENT_IPS, ONPREM_SSH_KEY_PATH");
  });

  it("a placeholder-looking value the install would use as it is is a warning; this machine is not the target of a contract check", async () => {
    const manifest = (inputs: string, extra = "") => `apiVersion: infra.productive-k3s.io/v1
kind: Profile
metadata: {name: contract-lab, version: 1.0.0, category: local}
spec:
  scenario: {type: lab}
  engine: {type: script}
  execution: {installScript: scenario/install.sh}
${extra}  inputs:
${inputs}`;
    const files = { "scenario/install.sh": bashScript("true"), "profile.env": "LAB_KEY=your-key-name\nLAB_DIR=/path/to/lab\n" };
    const tgz = await packTestProfile(
      sb,
      manifest(
        "    - {name: LAB_KEY, required: true, source: package-default}\n    - {name: LAB_DIR, required: true, source: local-override}\n",
      ),
      files,
    );
    const r = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as ValidateDoc;
    expect(doc.warnings.map((w) => w.message)).toEqual([
      'LAB_KEY="your-key-name" looks like a placeholder, but LAB_KEY is not a local-override input: an install uses it as it is (declare it with source: local-override if the invoking machine must supply it)',
    ]);
    expect(doc.needs.map((n) => n.name)).toEqual(["LAB_DIR"]);

    // The machine it is validated on is not the target of a contract check; with values it is.
    const otherArch = await packTestProfile(
      sb,
      manifest("    - {name: LAB_DIR, required: true, source: local-override}\n", "  runtime: {architectures: [s390x]}\n"),
      files,
    );
    if (process.arch !== "s390x") {
      expect((await runInfra(sb, ["profile", "validate", "--tgz", otherArch])).code).toBe(0);
      const onThisHost = await runInfra(sb, ["profile", "validate", "--tgz", otherArch, "--set", "LAB_DIR=/tmp/lab"]);
      expect(onThisHost.code).toBe(4);
      expect(onThisHost.stderr).toContain("the profile supports s390x, but this machine is");
    }
  });

  it("a broken contract is exit 4 naming the field: an inventory built from an undeclared input", async () => {
    const root = join(sb.dir, "src-tree");
    await mkdir(join(root, "profiles/edge/remote"), { recursive: true });
    await mkdir(join(root, "scenarios/edge/remote-lab"), { recursive: true });
    await writeFile(join(root, "scenarios/edge/remote-lab/playbook.yml"), "- hosts: all\n  tasks: []\n");
    await writeFile(
      join(root, "profiles/edge/remote/lab.env"),
      "PK3S_INFRA_PROFILE_NAME=remote-lab\nPK3S_INFRA_SCENARIO=remote-lab\nPK3S_INFRA_ENGINE=ansible\n",
    );
    await writeFile(
      join(root, "profiles/edge/remote/lab.package.yaml"),
      "inputs:\n  - {name: LAB_HOST, required: true, source: local-override}\nengine:\n  inventory:\n    hosts: [{input: LAB_HOST}]\n    user: {input: LAB_USER}\n",
    );
    const r = await runInfra(sb, ["dev", "profile", "validate", "--profile-env", join(root, "profiles/edge/remote/lab.env")]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("spec.engine.inventory.user.input: LAB_USER is not declared in spec.inputs");
  });
});
