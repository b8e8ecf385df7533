/**
 * Sensitive values: set through --env-file, they must appear in no file under
 * the state and cache directories, in no stdout/stderr, in no argv recorded by
 * the stub, and in no telemetry payload.
 */

import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addSensitiveInputs,
  buildFixture,
  type CliResult,
  filesContaining,
  hasAnsible,
  instanceDir,
  runInfra,
  type Sandbox,
  sandbox,
  stubCalls,
} from "./helpers.js";

const SECRET = "Zq9-very-secret-Value/with+chars";
const TF_SECRET = "tfvar-secret-0xDEADBEEF";

let sb: Sandbox;
let server: Server;
const received: string[] = [];
let endpoint: string;

beforeAll(async () => {
  sb = await sandbox();
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/events`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await sb.cleanup();
});

function expectClean(results: CliResult[], needle: string): void {
  for (const r of results) {
    expect(r.stdout).not.toContain(needle);
    expect(r.stderr).not.toContain(needle);
  }
}

describe("sensitive inputs (opentofu)", () => {
  it("never reach state, cache, output, argv or telemetry", async () => {
    // A test copy of aws-single-node-basic with a sensitive input, and a sensitive variable fed by another one.
    const tgz = await buildFixture(sb, "aws-single-node-basic", async (dir) => {
      await addSensitiveInputs(dir, [
        { name: "AWS_SECRET_ACCESS_KEY", source: "either", description: "AWS secret access key" },
        { name: "AWS_DB_PASSWORD", source: "local-override" },
      ]);
      await writeFile(join(dir, "scenario/secret.tf"), 'variable "db_password" {\n  type      = string\n  sensitive = true\n}\n');
      // The install script echoes the secret back: it must come out masked.
      await writeFile(
        join(dir, "scenario/install.sh"),
        '#!/usr/bin/env bash\necho "key is $AWS_SECRET_ACCESS_KEY and db is $AWS_DB_PASSWORD"\necho "err $AWS_SECRET_ACCESS_KEY" >&2\n',
        { mode: 0o755 },
      );
    });
    const envFile = join(sb.dir, "secret.env");
    await writeFile(
      envFile,
      `AWS_KEY_PAIR_NAME=kp\nAWS_SSH_KEY_PATH=/k.pem\nAWS_SECRET_ACCESS_KEY='${SECRET}'\nAWS_DB_PASSWORD=${TF_SECRET}\n`,
    );
    const env = { PK3S_TELEMETRY_ENDPOINT: endpoint };
    const results: CliResult[] = [];
    const run = async (args: string[]) => {
      const r = await runInfra(sb, args, { env });
      results.push(r);
      return r;
    };
    expect((await run(["profile", "validate", "--tgz", tgz, "--env-file", envFile, "--json"])).code).toBe(0);
    expect((await run(["profile", "plan", "--tgz", tgz, "--env-file", envFile, "--instance", "s1", "--json"])).code).toBe(0);
    const install = await run(["profile", "install", "--tgz", tgz, "--env-file", envFile, "--instance", "s1", "--yes"]);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stderr).toContain("key is *** and db is ***");
    expect((await run(["profile", "status", "--instance", "s1", "--json"])).code).toBe(0);
    expect((await run(["profile", "outputs", "--instance", "s1", "--json"])).code).toBe(0);
    // A failing apply echoes the secret in its error: masked in the error message too.
    const failing = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", envFile, "--instance", "s2", "--yes", "--json"], {
      env: { ...env, STUB_TOFU_FAIL: "apply" },
    });
    results.push(failing);
    expect(failing.code).toBe(1);
    // destroy needs the sensitive inputs again (never stored): without them exit 4 naming them.
    const noSecrets = await run(["profile", "destroy", "--instance", "s1", "--yes"]);
    expect(noSecrets.code).toBe(4);
    expect(noSecrets.stderr).toContain("AWS_SECRET_ACCESS_KEY");
    expect((await run(["profile", "destroy", "--instance", "s1", "--yes", "--env-file", envFile])).code).toBe(0);

    for (const needle of [SECRET, TF_SECRET]) {
      expectClean(results, needle);
      expect(await filesContaining(sb.state, needle)).toEqual([]);
      expect(await filesContaining(sb.cache, needle)).toEqual([]);
      for (const call of await stubCalls(sb)) expect(call.argv.join(" ")).not.toContain(needle);
      for (const body of received) expect(body).not.toContain(needle);
    }
    // The engine did get them, through the environment only.
    const applyCall = (await stubCalls(sb)).find((c) => c.argv[0] === "apply");
    expect(applyCall?.env.AWS_SECRET_ACCESS_KEY).toBe(SECRET);
    expect(applyCall?.env.TF_VAR_db_password).toBe(TF_SECRET);
    // State stores the names only.
    const record = JSON.parse(await readFile(join(instanceDir(sb, "s1"), "instance.json"), "utf8")) as {
      sensitiveInputs: string[];
      inputs: Record<string, string>;
    };
    expect(record.sensitiveInputs).toEqual(["AWS_DB_PASSWORD", "AWS_SECRET_ACCESS_KEY"]);
    expect(record.inputs.AWS_SECRET_ACCESS_KEY).toBeUndefined();

    // Telemetry was sent (opt-in), allowlisted: no hostnames, no IP addresses, no instance names.
    expect(received.length).toBeGreaterThan(0);
    for (const body of received) {
      const parsed = JSON.parse(body) as { source: string; events: { event: string }[] };
      expect(parsed.source).toBe("productive-k3s-infra");
      expect(parsed.events.map((e) => e.event)).toContain("command.completed");
      expect(body).not.toContain(hostname());
      expect(body).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
      expect(body).not.toContain('"s1"');
    }
  });

  it("telemetry to an unreachable endpoint never fails the command", async () => {
    const tgz = await buildFixture(sb, "aws-single-node-basic");
    const r = await runInfra(
      sb,
      ["profile", "plan", "--tgz", tgz, "--set", "AWS_KEY_PAIR_NAME=kp", "--set", "AWS_SSH_KEY_PATH=/k", "--instance", "t1"],
      {
        env: { PK3S_TELEMETRY_ENDPOINT: "http://127.0.0.1:9/unreachable" },
      },
    );
    expect(r.code, r.stderr).toBe(0);
  });
});

describe.skipIf(!hasAnsible)("sensitive inputs (ansible, real ansible-playbook)", () => {
  it("pass through a 0600 extra-vars file that is removed, and are masked everywhere", async () => {
    const tgz = await buildFixture(sb, "local-lab");
    const envFile = join(sb.dir, "lab-secret.env");
    await writeFile(envFile, `LAB_DIR=${join(sb.dir, "lab-secret")}\nLAB_JOIN_TOKEN=${SECRET}\n`);
    const tmp = join(sb.dir, "tmp");
    await mkdir(tmp, { recursive: true });
    const r = await runInfra(sb, ["profile", "install", "--tgz", tgz, "--env-file", envFile, "--instance", "lab-secret", "--yes"], {
      env: { TMPDIR: tmp },
    });
    expect(r.code, r.stderr).toBe(0);
    // The extra-vars file (and the extraction) lived under TMPDIR and are gone.
    expect(await readdir(tmp)).toEqual([]);
    expectClean([r], SECRET);
    expect(await filesContaining(sb.state, SECRET)).toEqual([]);
    // Only the digest reached the lab.
    const digest = (await readFile(join(sb.dir, "lab-secret", "join-token.sha256"), "utf8")).trim();
    const { createHash } = await import("node:crypto");
    expect(digest).toBe(createHash("sha256").update(SECRET).digest("hex"));
  });
});
