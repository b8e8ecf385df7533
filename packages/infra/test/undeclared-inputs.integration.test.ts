/**
 * Env-file / --set keys the profile does not declare (not an input, not in
 * its profile.env, not feeding a declared OpenTofu variable) reach the engine
 * but are treated as sensitive: never stored in instance.json, never shown
 * by status, masked in output when 8 characters or longer (decision in
 * src/operations/resolve-inputs.ts). Before, they were stored in clear.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFixture, filesContaining, instanceDir, runInfra, type Sandbox, sandbox, stubCalls } from "./helpers.js";

const CREDENTIAL = "undeclared-credential-4b1d";

let sb: Sandbox;
let tgz: string;
let envFile: string;

beforeAll(async () => {
  sb = await sandbox();
  tgz = await buildFixture(sb, "aws-single-node-basic");
  envFile = join(sb.dir, "team.env");
  await writeFile(
    envFile,
    `AWS_KEY_PAIR_NAME=kp\nAWS_SSH_KEY_PATH=/k.pem\nAWS_SECRET_ACCESS_KEY=${CREDENTIAL}\nDEBUG=1\nAWS_PROFILE=team\n`,
  );
});
afterAll(async () => sb.cleanup());

describe("undeclared env keys", () => {
  it("reach the engine, are never stored or shown, and are masked when long enough", async () => {
    const install = await runInfra(
      sb,
      [
        "profile",
        "install",
        "--tgz",
        tgz,
        "--env-file",
        envFile,
        "--set",
        "AWS_INSTANCE_TYPE=t3a.large",
        "--instance",
        "team",
        "--yes",
        "--json",
      ],
      { env: { PK3S_STUB_ENV_KEYS: "DEBUG" } },
    );
    expect(install.code, install.stderr).toBe(0);
    expect(install.stderr).toContain(
      "AWS_SECRET_ACCESS_KEY, DEBUG are not inputs of profile aws-single-node-basic: passed to the engine, but treated as sensitive (never stored; pass them again for destroy)",
    );
    // The engine got them (a provider reads AWS_SECRET_ACCESS_KEY from its environment).
    const apply = (await stubCalls(sb)).find((c) => c.argv[0] === "apply");
    expect(apply?.env.AWS_SECRET_ACCESS_KEY).toBe(CREDENTIAL);
    expect(apply?.env.DEBUG).toBe("1");
    // A one-character value is not masked: "us-east-1" keeps its "1".
    expect(JSON.parse(install.stdout).outputs.region).toBe("us-east-1");

    const record = JSON.parse(await readFile(join(instanceDir(sb, "team"), "instance.json"), "utf8")) as {
      inputs: Record<string, string>;
      sensitiveInputs: string[];
    };
    expect(record.inputs).not.toHaveProperty("AWS_SECRET_ACCESS_KEY");
    expect(record.inputs).not.toHaveProperty("DEBUG");
    // Declared by the package's profile.env, or feeding a declared variable: stored as before.
    expect(record.inputs).toMatchObject({ AWS_PROFILE: "team", AWS_INSTANCE_TYPE: "t3a.large", AWS_KEY_PAIR_NAME: "kp" });
    expect(record.sensitiveInputs).toEqual(["AWS_SECRET_ACCESS_KEY", "DEBUG"]);
    expect(await filesContaining(sb.state, CREDENTIAL)).toEqual([]);

    const status = await runInfra(sb, ["profile", "status", "--instance", "team", "--json"]);
    const s = JSON.parse(status.stdout) as { inputs: Record<string, string>; sensitiveInputs: string[] };
    expect(s.inputs).not.toHaveProperty("AWS_SECRET_ACCESS_KEY");
    expect(s.sensitiveInputs).toEqual(["AWS_SECRET_ACCESS_KEY", "DEBUG"]);
    const human = await runInfra(sb, ["profile", "status", "--instance", "team"]);
    expect(human.stdout).toContain("sensitive inputs (never stored): AWS_SECRET_ACCESS_KEY, DEBUG");
    for (const r of [install, status, human]) expect(r.stdout + r.stderr).not.toContain(CREDENTIAL);

    // destroy says which values it does not have.
    const destroy = await runInfra(sb, ["profile", "destroy", "--instance", "team", "--yes"]);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(destroy.stderr).toContain("pass AWS_SECRET_ACCESS_KEY, DEBUG again (--env-file or --set) if the profile needs them");
  });
});
