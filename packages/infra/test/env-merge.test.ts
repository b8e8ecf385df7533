/** Merging package defaults, env files and --set (env/merge.ts), and did-you-mean for input names. */

import { closestName, editDistance } from "@productive-k3s/pkg-format/did-you-mean";
import { describe, expect, it } from "vitest";
import { mergeEnv, parseSets } from "../src/env/merge.js";
import { awsInputs } from "./aws-inputs.js";

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
