import type { ProfileInput } from "@productive-k3s/pkg-format/schema-profile";
import { describe, expect, it } from "vitest";
import { engineFor } from "../src/engines/engine-for.js";
import { countChanges } from "../src/engines/opentofu.js";
import { parseOutputsText } from "../src/engines/outputs-file.js";
import { mapVariables, scanVariablesText, sharedInputPrefix } from "../src/engines/tofu-variables.js";
import { closestName, editDistance } from "../src/env/did-you-mean.js";
import { mergeEnv, parseSets } from "../src/env/merge.js";
import { checkTarget, hostArch } from "../src/operations/target.js";
import { allowlistEvent } from "../src/state/telemetry.js";

const awsInputs: ProfileInput[] = [
  { name: "AWS_REGION", required: true, sensitive: false, source: "package-default", description: "Default AWS region" },
  { name: "AWS_KEY_PAIR_NAME", required: true, sensitive: false, source: "local-override", description: "Existing AWS EC2 key pair name" },
  { name: "AWS_SSH_KEY_PATH", required: true, sensitive: false, source: "local-override", description: "Absolute local path to the key" },
];

describe("env merge", () => {
  it("ignores the package's placeholder for local-override inputs and lists every missing one", () => {
    const merged = mergeEnv(
      [
        {
          origin: "package",
          values: { AWS_REGION: "us-east-1", AWS_KEY_PAIR_NAME: "your-existing-keypair", AWS_SSH_KEY_PATH: "/absolute/path" },
        },
      ],
      awsInputs,
    );
    expect(merged.values.AWS_KEY_PAIR_NAME).toBeUndefined();
    expect(merged.values.AWS_REGION).toBe("us-east-1");
    expect(merged.problems.map((p) => p.path)).toEqual(["AWS_KEY_PAIR_NAME", "AWS_SSH_KEY_PATH"]);
    expect(merged.problems[0]?.message).toContain("Existing AWS EC2 key pair name");
    expect(merged.problems[0]?.message).toContain("invoking machine");
    expect(merged.problems[0]?.message).toContain("placeholder");
  });

  it("applies precedence package < env files in order < --set", () => {
    const merged = mergeEnv(
      [
        { origin: "package", values: { AWS_REGION: "us-east-1" } },
        {
          origin: "env-file",
          file: "a.env",
          values: { AWS_REGION: "eu-west-1", AWS_KEY_PAIR_NAME: "a" },
          lines: { AWS_REGION: 1, AWS_KEY_PAIR_NAME: 2 },
        },
        {
          origin: "env-file",
          file: "b.env",
          values: { AWS_KEY_PAIR_NAME: "b", AWS_SSH_KEY_PATH: "/k" },
          lines: { AWS_KEY_PAIR_NAME: 1, AWS_SSH_KEY_PATH: 2 },
        },
        parseSets(["AWS_REGION=ap-south-1"]),
      ],
      awsInputs,
    );
    expect(merged.problems).toEqual([]);
    expect(merged.values).toMatchObject({ AWS_REGION: "ap-south-1", AWS_KEY_PAIR_NAME: "b", AWS_SSH_KEY_PATH: "/k" });
    expect(merged.origins.AWS_KEY_PAIR_NAME).toEqual({ kind: "env-file", file: "b.env", line: 1 });
    expect(merged.origins.AWS_REGION).toEqual({ kind: "set" });
  });

  it("treats an empty required value as missing", () => {
    const merged = mergeEnv([{ origin: "set", values: { AWS_REGION: "", AWS_KEY_PAIR_NAME: "k", AWS_SSH_KEY_PATH: "/p" } }], awsInputs);
    expect(merged.problems).toHaveLength(1);
    expect(merged.problems[0]?.message).toContain("is empty");
  });

  it("warns 'did you mean' for undeclared keys within edit distance 2", () => {
    const merged = mergeEnv(
      [
        {
          origin: "env-file",
          file: "x.env",
          values: { AWS_KEY_PAIR_NAM: "k", UNRELATED_THING: "1" },
          lines: { AWS_KEY_PAIR_NAM: 3, UNRELATED_THING: 4 },
        },
      ],
      awsInputs,
    );
    expect(merged.warnings).toHaveLength(1);
    expect(merged.warnings[0]).toMatchObject({ file: "x.env", line: 3 });
    expect(merged.warnings[0]?.message).toContain("did you mean AWS_KEY_PAIR_NAME?");
  });

  it("rejects malformed --set", () => {
    expect(() => parseSets(["NOEQUALS"])).toThrow(/KEY=VALUE/);
    expect(() => parseSets(["1BAD=x"])).toThrow(/KEY=VALUE/);
    expect(parseSets(["A=b=c"]).values).toEqual({ A: "b=c" });
  });

  it("edit distance", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(closestName("AWS_REGON", ["AWS_REGION", "AWS_PROFILE"])).toBe("AWS_REGION");
    expect(closestName("TOTALLY_OTHER", ["AWS_REGION"])).toBeUndefined();
  });
});

describe("HCL-lite variable scanner", () => {
  it("finds variables, defaults and sensitivity, ignoring comments, strings, heredocs and nested blocks", () => {
    const text = `
# variable "commented" { }
// variable "also_commented" {}
/* variable "block_commented" {} */
variable "region" { type = string }
variable "size" {
  type    = number
  default = 80
}
variable "token" {
  type      = string
  sensitive = true
  validation {
    condition     = length(var.token) > 0
    error_message = "default = nope { }"
  }
}
locals {
  doc = <<-EOT
    variable "in_heredoc" { default = 1 }
  EOT
  s = "variable \\"in_string\\" { } \${var.region}"
}
resource "x" "y" {
  default = "not a variable"
}
variable "with_default_string" { default = "a}b" }
`;
    const vars = scanVariablesText(text, "main.tf");
    expect(vars.map((v) => [v.name, v.hasDefault, v.sensitive])).toEqual([
      ["region", false, false],
      ["size", true, false],
      ["token", false, true],
      ["with_default_string", true, false],
    ]);
    expect(vars[0]?.line).toBe(5);
  });

  it("maps TF_VAR_ keys and the inputs' shared prefix to variables, reporting undeclared and missing ones", () => {
    const vars = scanVariablesText(
      'variable "region" {}\nvariable "key_pair_name" {}\nvariable "ssh_user" { default = "ubuntu" }\nvariable "cluster_name" {}',
      "v.tf",
    );
    expect(sharedInputPrefix(awsInputs.map((i) => i.name))).toBe("AWS_");
    expect(sharedInputPrefix(["TF_VAR_a", "TF_VAR_b"])).toBeUndefined();
    expect(sharedInputPrefix(["A_X", "B_Y"])).toBeUndefined();
    const m = mapVariables(
      {
        AWS_REGION: "us-east-1",
        AWS_KEY_PAIR_NAME: "kp",
        AWS_PROFILE: "default",
        TF_VAR_region: "eu-west-1",
        TF_VAR_nope: "1",
        OTHER: "x",
      },
      vars,
      awsInputs.map((i) => i.name),
    );
    expect(m.values).toEqual({ region: "eu-west-1", key_pair_name: "kp" });
    expect(m.sources).toEqual({ region: "TF_VAR_region", key_pair_name: "AWS_KEY_PAIR_NAME" });
    expect(m.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('TF_VAR_nope sets variable "nope", which the scenario does not declare'),
      expect.stringContaining('required variable "cluster_name" (no default) has no value: set TF_VAR_cluster_name or AWS_CLUSTER_NAME'),
    ]);
  });
});

describe("outputs", () => {
  it("reads JSON (plain and tofu-shaped) and KEY=VALUE outputs files", () => {
    const json = parseOutputsText('{"a": "1", "n": 3, "t": {"value": "s", "sensitive": true}}', "f");
    expect(json.values).toEqual({ a: "1", n: 3, t: "s" });
    expect([...json.sensitive]).toEqual(["t"]);
    const kv = parseOutputsText("# c\nkubeconfig=/x/y\nlab_dir='/a b'\n", "f");
    expect(kv.values).toEqual({ kubeconfig: "/x/y", lab_dir: "/a b" });
  });

  it("counts plan changes like tofu (replace = add + destroy)", () => {
    const show = JSON.stringify({
      resource_changes: [
        { change: { actions: ["create"] } },
        { change: { actions: ["update"] } },
        { change: { actions: ["delete", "create"] } },
        { change: { actions: ["no-op"] } },
        { change: { actions: ["delete"] } },
      ],
    });
    expect(countChanges(show)).toEqual({ add: 2, change: 1, destroy: 2 });
  });
});

describe("telemetry allowlist", () => {
  it("keeps only allowlisted scalar fields", () => {
    const out = allowlistEvent({
      event: "command.completed",
      ts: "2026-01-01T00:00:00.000Z",
      runId: "r",
      correlationId: "c",
      instance: "my-host.example.com",
      profile: "local-lab",
      exitCode: 0,
      host: "10.0.0.1",
      message: "secret here",
      changes: { add: 1, change: 0, destroy: 0, extra: "x" },
    });
    expect(out).toEqual({
      event: "command.completed",
      ts: "2026-01-01T00:00:00.000Z",
      runId: "r",
      correlationId: "c",
      profile: "local-lab",
      exitCode: 0,
      changes: { add: 1, change: 0, destroy: 0 },
    });
  });
});

describe("target compatibility", () => {
  const manifest = (engine: Record<string, unknown>, runtime?: Record<string, unknown>) =>
    ({
      apiVersion: "infra.productive-k3s.io/v1",
      kind: "Profile",
      metadata: { name: "t", version: "1.0.0", category: "c" },
      spec: { scenario: { type: "s" }, engine: { workingDir: "scenario", ...engine }, inputs: [], ...(runtime ? { runtime } : {}) },
    }) as unknown as Parameters<typeof checkTarget>[0];
  // The engine says whether its target is this machine.
  const check = (m: Parameters<typeof checkTarget>[0], env: Record<string, string>) => checkTarget(m, engineFor(m).target(), env);

  it("the engine decides where the target is", () => {
    expect(engineFor(manifest({ type: "script" })).target()).toBe("this-machine");
    expect(engineFor(manifest({ type: "ansible" })).target()).toBe("this-machine");
    expect(engineFor(manifest({ type: "ansible", inventory: "hosts.ini" })).target()).toBe("remote");
    expect(engineFor(manifest({ type: "opentofu" })).target()).toBe("remote");
  });

  it("checks a local target against this host", () => {
    const other = hostArch() === "amd64" ? "arm64" : "amd64";
    const r = check(manifest({ type: "script" }, { architectures: [other] }), {});
    expect(r.problems[0]?.message).toBe(`the profile supports ${other}, but this machine is ${hostArch()}`);
    expect(check(manifest({ type: "script" }, { architectures: [hostArch()] }), {}).problems).toEqual([]);
  });

  it("checks a remote target only when the invoking machine states it", () => {
    const m = manifest({ type: "opentofu" }, { architectures: ["amd64"], os: ["ubuntu-24.04"] });
    expect(check(m, {}).problems).toEqual([]);
    expect(check(m, { PK3S_TARGET_ARCH: "arm64" }).problems[0]?.message).toContain("but the target (PK3S_TARGET_*) is arm64");
    expect(check(m, { PK3S_TARGET_OS: "ubuntu-24.04" }).problems).toEqual([]);
    expect(check(m, { PK3S_TARGET_OS: "debian-12" }).problems[0]?.path).toBe("spec.runtime.os");
    expect(check(manifest({ type: "opentofu" }, { architectures: ["sparc"] }), {}).warnings).toHaveLength(1);
  });
});
