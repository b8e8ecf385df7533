/**
 * Infra's own messages never carry a secret (red-team finding 2): the
 * step-failure message and the `--json` error document for a secret that
 * spans lines, the statusScript output holding a multi-line sensitive output
 * (a PEM key with CRLF line ends), human status/outputs. Values no process
 * can carry (NUL, an over-long entry) are rejected as inputs (exit 4) naming
 * the key, never echoing the value.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bashScript, type CliResult, filesContaining, packTestProfile, runInfra, type Sandbox, sandbox } from "./helpers.js";

const PASS_LINES = ["first-line-of-the-pass", "second-line-of-the-pass"];
const PASS = PASS_LINES.join("\n");
const KEY_LINES = ["-----BEGIN PRIVATE KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", "-----END PRIVATE KEY-----"];
const KEY = `${KEY_LINES.join("\r\n")}\r\n`;

let sb: Sandbox;
let tgz: string;

beforeAll(async () => {
  sb = await sandbox();
  tgz = await packTestProfile(
    sb,
    `apiVersion: infra.productive-k3s.io/v1
kind: Profile
metadata:
  name: redact-lab
  version: 0.1.0
  category: local
spec:
  scenario:
    type: redact-lab
  engine:
    type: script
  inputs:
    - name: PASS
      sensitive: true
    - name: FAIL_PLAN
  execution:
    installScript: scenario/install.sh
    planScript: scenario/plan.sh
    statusScript: scenario/status.sh
`,
    {
      "scenario/plan.sh": bashScript(`echo "the pass is:" >&2\nprintf '%s\\n' "$PASS" >&2\nexit 1`),
      "scenario/install.sh": bashScript(
        `printf '%s' '${JSON.stringify({ tls_key: { value: KEY, sensitive: true }, host: "lab.local" })}' > "$PK3S_OUTPUTS_FILE"`,
      ),
      "scenario/status.sh": bashScript(`echo "key in use:"\nprintf '%s' "$PK3S_OUTPUT_TLS_KEY"`),
    },
  );
});
afterAll(async () => sb.cleanup());

function expectNoneOf(texts: string[], needles: readonly string[]): void {
  for (const text of texts) for (const n of needles) expect(text).not.toContain(n);
}

describe("multi-line secrets in Infra's messages", () => {
  it("a failing step's error message and --json error document mask a secret spanning lines", async () => {
    const r = await runInfra(sb, ["profile", "plan", "--tgz", tgz, "--set", `PASS=${PASS}`, "--instance", "fails", "--json"]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string; hint: string } };
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe("E_STEP_FAILED");
    expect(doc.error.message).toBe("plan failed with exit code 1:\n    the pass is:\n    ***");
    expectNoneOf([r.stdout, r.stderr.slice(r.stderr.indexOf("error: "))], PASS_LINES);
  });

  it("status masks a multi-line sensitive output in the statusScript's output; outputs shows it only when asked", async () => {
    const install = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--instance", "keys", "--yes", "--json"]);
    expect(install.code, install.stderr).toBe(0);
    expect(JSON.parse(install.stdout).outputs).toEqual({ tls_key: "***", host: "lab.local" });

    const status = await runInfra(sb, ["profile", "status", "--instance", "keys", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as { outputs: Record<string, unknown>; check: { output: string } };
    expect(s.outputs.tls_key).toBe("***");
    expect(s.check.output).toBe("key in use:\n***");
    const human = await runInfra(sb, ["profile", "status", "--instance", "keys"]);
    expect(human.stdout).toContain("tls_key = ***");
    const masked = await runInfra(sb, ["profile", "outputs", "--instance", "keys"]);
    expect(masked.stdout).toBe("host = lab.local\ntls_key = ***\n");
    const results: CliResult[] = [install, status, human, masked];
    expectNoneOf(
      results.flatMap((r) => [r.stdout, r.stderr]),
      KEY_LINES.slice(1, 2),
    );
    // Asked for, and only there: `outputs --show-sensitive` prints it as an indented block (JSON: the exact value).
    const shown = await runInfra(sb, ["profile", "outputs", "--instance", "keys", "--show-sensitive"]);
    expect(shown.stdout).toBe(`host = lab.local\ntls_key =\n${KEY_LINES.map((l) => `    ${l}\\r`).join("\n")}\n`);
    const json = await runInfra(sb, ["profile", "outputs", "--instance", "keys", "--show-sensitive", "--json"]);
    expect(JSON.parse(json.stdout).outputs.tls_key).toBe(KEY);
    expect(await filesContaining(join(sb.state, "infra/instances/keys/runs"), KEY_LINES[1] ?? "")).toEqual([]);
  });
});

describe("values a process cannot carry", () => {
  it("a NUL in an input value exits 4 naming the input, never showing the value", async () => {
    const envFile = join(sb.dir, "nul.env");
    await writeFile(envFile, "PASS=nul-secret-head\0nul-secret-tail\n");
    for (const command of ["validate", "install"]) {
      const r = await runInfra(sb, [
        "profile",
        command,
        "--tgz",
        tgz,
        "--env-file",
        envFile,
        "--json",
        ...(command === "install" ? ["--yes"] : []),
      ]);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toContain(`${envFile}:1: PASS: the value of PASS (from ${envFile}:1) contains a NUL character`);
      expect(r.stderr).not.toContain("internal error");
      expectNoneOf([r.stdout, r.stderr], ["nul-secret-head", "nul-secret-tail"]);
      expect(JSON.parse(r.stdout).error.problems.map((p: { path: string }) => p.path)).toEqual(["PASS"]);
    }
  });

  it("a value longer than one environment entry can hold exits 4 naming the input", async () => {
    const envFile = join(sb.dir, "big.env");
    await writeFile(envFile, `FAIL_PLAN=${"x".repeat(140_000)}\n`);
    const r = await runInfra(sb, ["profile", "plan", "--tgz", tgz, "--env-file", envFile, "--instance", "big"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("the value of FAIL_PLAN");
    expect(r.stderr).toContain("is 140000 bytes; one environment entry is limited to 131072 bytes");
  });
});
