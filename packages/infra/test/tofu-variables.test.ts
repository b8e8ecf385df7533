/** The HCL-lite scanner of OpenTofu variables and their mapping to inputs (engines/tofu-variables.ts). */
import { describe, expect, it } from "vitest";
import { mapVariables, scanVariablesText, sharedInputPrefix } from "../src/engines/tofu-variables.js";
import { awsInputs } from "./aws-inputs.js";

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
