// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the install script below is bash
/**
 * Sensitive values that span lines, arrive split across output chunks, or
 * hold a NUL: masked (or refused) everywhere a user or a file could see them:
 * stderr, runs/<id>.log, the run record and the --json error of a failed
 * step, through the built binary.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addSensitiveInputs, buildFixture, filesContaining, instanceDir, runInfra, type Sandbox, sandbox, stubCalls } from "./helpers.js";

const LINES = ["first-secret-line-AAAA", "second-secret-line-BBBB", "third-secret-line-CCCC"];
const SECRET = LINES.join("\n");
/** Pieces that must never show up: a line, or a fragment of one (a secret cut by a chunk boundary). */
const NEEDLES = [...LINES, "first-secr", "AAAA", "BBBB", "CCCC"];

let sb: Sandbox;
let tgz: string;

beforeAll(async () => {
  sb = await sandbox();
  tgz = await buildFixture(sb, "aws-single-node-basic", async (dir) => {
    await addSensitiveInputs(dir, [{ name: "AWS_SECRET_ACCESS_KEY", source: "either", description: "a multi-line secret (a PEM key)" }]);
    // The install script leaks the secret every way a tool does, then fails.
    await writeFile(
      join(dir, "scenario/install.sh"),
      [
        "#!/usr/bin/env bash",
        'S="$AWS_SECRET_ACCESS_KEY"',
        'echo "raw: $S"',
        // Split across two writes (two `data` chunks), mid-line.
        'printf "split: %s" "${S:0:10}"; sleep 0.3; printf "%s\\n" "${S:10}"',
        "printf 'json: %s\\n' \"$(node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' \"$S\")\"",
        'set -x; : "$S"; set +x',
        'echo "stderr: $S" >&2',
        "echo \"second line alone: ${S#*$'\\n'}\" >&2",
        "exit 3",
      ].join("\n"),
      { mode: 0o755 },
    );
  });
});
afterAll(async () => sb.cleanup());

function expectNoSecret(where: string, text: string): void {
  for (const needle of NEEDLES) expect(text, `${where} holds ${needle}`).not.toContain(needle);
}

describe("multi-line sensitive values", () => {
  it("never appear on stderr, in the run log, the run record or the --json error of a failing step", async () => {
    const envFile = join(sb.dir, "multiline.env");
    await writeFile(envFile, `AWS_KEY_PAIR_NAME=kp\nAWS_SSH_KEY_PATH=/k.pem\nAWS_SECRET_ACCESS_KEY="${SECRET.replaceAll("\n", "\\n")}"\n`);
    const r = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", envFile, "--instance", "ml", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(1);
    // The step ran and its output was echoed, masked.
    expect(r.stderr).toContain("[install-script] raw: ***");
    expect(r.stderr).toContain("[install-script] split: ***");
    expect(r.stderr).toContain('[install-script] json: "***"');
    expect(r.stderr).toContain("[install-script] second line alone: ***");
    const error = JSON.parse(r.stdout) as { ok: boolean; error: { message: string } };
    expect(error.ok).toBe(false);
    expect(error.error.message).toContain("stderr: ***");
    expectNoSecret("stdout (--json)", r.stdout);
    expectNoSecret("stderr", r.stderr);
    const runs = join(instanceDir(sb, "ml"), "runs");
    const files = await readdir(runs);
    expect(files.some((f) => f.endsWith(".log"))).toBe(true);
    for (const f of files) expectNoSecret(f, await readFile(join(runs, f), "utf8"));
    for (const needle of NEEDLES) expect(await filesContaining(sb.state, needle)).toEqual([]);
    // The tool got the real value (through the environment).
    const apply = (await stubCalls(sb)).find((c) => c.argv[0] === "apply");
    expect(apply?.env.AWS_SECRET_ACCESS_KEY).toBe(SECRET);
  });

  it("a value holding NUL is refused before anything runs: exit 4 naming the input, never the value", async () => {
    const envFile = join(sb.dir, "nul.env");
    await writeFile(envFile, "AWS_KEY_PAIR_NAME=kp\nAWS_SSH_KEY_PATH=/k.pem\nAWS_SECRET_ACCESS_KEY=ab\0cd-nul-secret\n");
    const before = (await stubCalls(sb)).length;
    const r = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", envFile, "--instance", "nul", "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(4);
    const out = JSON.parse(r.stdout) as { error: { code: string; problems: { path: string; message: string }[] } };
    expect(out.error.code).toBe("E_VALIDATION");
    expect(out.error.problems).toContainEqual(
      expect.objectContaining({
        path: "AWS_SECRET_ACCESS_KEY",
        message: expect.stringContaining("contains a NUL character, which no process environment can carry (value not shown)"),
      }),
    );
    expect(r.stderr).toContain("AWS_SECRET_ACCESS_KEY");
    expect(r.stderr).not.toContain("internal error");
    for (const text of [r.stdout, r.stderr]) {
      expect(text).not.toContain("cd-nul-secret");
      expect(text).not.toContain("\\x00");
    }
    expect((await stubCalls(sb)).length).toBe(before);
    expect(await readdir(join(sb.state, "infra", "instances")).catch(() => [])).not.toContain("nul");
  });
});
