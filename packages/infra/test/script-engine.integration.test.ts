/**
 * The script engine (installScript, planScript, statusScript, destroyScript)
 * and its outputs file protocol, on a package written by the test.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bashScript, exists, filesContaining, packTestProfile, readJson, runInfra, type Sandbox, sandbox } from "./helpers.js";

let sb: Sandbox;
let tgz: string;
const TOKEN = "script-secret-token-42";

beforeAll(async () => {
  sb = await sandbox();
  tgz = await packTestProfile(
    sb,
    `apiVersion: infra.productive-k3s.io/v1
kind: Profile
metadata:
  name: script-lab
  version: 0.1.0
  category: local
spec:
  scenario:
    type: script-lab
  engine:
    type: shell
  inputs:
    - name: TARGET_DIR
      required: true
      source: local-override
      description: where to write
    - name: GREETING
      required: true
      source: package-default
    - name: TOKEN
      sensitive: true
  execution:
    installScript: scenario/install.sh
    planScript: scenario/plan.sh
    statusScript: scenario/status.sh
    destroyScript: scenario/destroy.sh
`,
    {
      "profile.env": "GREETING=hello\nTARGET_DIR=/placeholder\n",
      "scenario/install.sh": bashScript(`mkdir -p "$TARGET_DIR"
echo "$GREETING from $PK3S_INSTANCE" > "$TARGET_DIR/marker"
echo "installing with token $TOKEN"
printf '{"target": "%s", "marker": "%s/marker", "api_token": {"value": "%s", "sensitive": true}}' "$TARGET_DIR" "$TARGET_DIR" "tok-$TOKEN" > "$PK3S_OUTPUTS_FILE"`),
      "scenario/plan.sh": bashScript(`echo "would write $TARGET_DIR/marker"`),
      "scenario/status.sh": bashScript(`test -f "$PK3S_OUTPUT_MARKER" && echo "marker present: $(cat "$PK3S_OUTPUT_MARKER")"`),
      "scenario/destroy.sh": bashScript(`rm -rf "$PK3S_OUTPUT_TARGET"`),
    },
    // Not executable: run with bash.
    { notExecutable: ["scenario/status.sh"] },
  );
});
afterAll(async () => sb.cleanup());

describe("script engine", () => {
  it("plan, install with outputs, status check, destroy", async () => {
    const target = join(sb.dir, "target");
    const common = ["--tgz", tgz, "--set", `TARGET_DIR=${target}`, "--set", `TOKEN=${TOKEN}`];
    const plan = await runInfra(sb, ["profile", "plan", ...common, "--json"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain(`[plan] would write ${target}/marker`);
    expect(await exists(target)).toBe(false);

    const install = await runInfra(sb, ["profile", "install", ...common, "--yes", "--json"]);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stderr).toContain("[install] installing with token ***");
    expect(JSON.parse(install.stdout)).toMatchObject({
      engine: "script",
      outputs: { target, marker: `${target}/marker`, api_token: "***" },
    });

    const status = await runInfra(sb, ["profile", "status", "--instance", "script-lab", "--json"]);
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: "installed",
      check: { script: "scenario/status.sh", exitCode: 0, output: "marker present: hello from script-lab" },
    });
    const shown = await runInfra(sb, ["profile", "outputs", "--instance", "script-lab", "--show-sensitive", "--json"]);
    expect(JSON.parse(shown.stdout).outputs.api_token).toBe(`tok-${TOKEN}`);

    const destroy = await runInfra(sb, ["profile", "destroy", "--instance", "script-lab", "--yes", "--set", `TOKEN=${TOKEN}`]);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(await exists(target)).toBe(false);
    expect(await filesContaining(sb.state, TOKEN)).toEqual([]);
    const record = await readJson<{ status: string; runs: { action: string; status: string }[] }>(
      join(sb.state, "infra/instances/script-lab/instance.json"),
    );
    expect(record.status).toBe("destroyed");
    expect(record.runs.map((r) => `${r.action}:${r.status}`)).toEqual(["plan:succeeded", "install:succeeded", "destroy:succeeded"]);
  });

  it("an instance belongs to one profile", async () => {
    const { buildFixture } = await import("./helpers.js");
    const other = await buildFixture(sb, "aws-single-node-basic");
    const r = await runInfra(sb, [
      "profile",
      "plan",
      "--tgz",
      other,
      "--set",
      "AWS_KEY_PAIR_NAME=k",
      "--set",
      "AWS_SSH_KEY_PATH=/k",
      "--instance",
      "script-lab",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("instance script-lab belongs to profile script-lab, not aws-single-node-basic");
  });
});
