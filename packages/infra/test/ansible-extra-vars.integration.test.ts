/**
 * Input values reach Ansible playbooks as data, never as Jinja2 templates
 * (red-team finding 1: `{{ lookup('pipe','cmd') }}` in an input ran `cmd`).
 * The real ansible-playbook, the repository's own local-lab profile (package
 * and source forms), values holding `{{`, `{%` and `{#`: each arrives
 * verbatim, and the commands they hold never run (their marker files do not
 * exist). Nested values (the stored outputs destroy gets, lists) likewise.
 */
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unsafeForAnsible } from "../src/engines/ansible-vars.js";
import { buildFixture, exists, fixturesDir, hasAnsible, runInfra, type Sandbox, sandbox } from "./helpers.js";

let sb: Sandbox;
let pwn: string;
// Each would create a file in `pwn` if Ansible templated it. (Absolute paths, no `$VAR`: Ansible's file
// modules expand environment variables in path arguments, which is not templating.)
let NAME: string;
let DIR: string;
let TOKEN: string;

beforeAll(async () => {
  sb = await sandbox();
  pwn = join(sb.dir, "pwn");
  await mkdir(pwn, { recursive: true });
  NAME = `{{ lookup('pipe','touch ${pwn}/name') }}{% if lookup('pipe','touch ${pwn}/stmt') %}{% endif %}{# comment #}`;
  DIR = `lab-{{ lookup('pipe','touch ${pwn}/dir') }}`;
  TOKEN = `{{ lookup('pipe','touch ${pwn}/token') }}`;
});
afterAll(async () => sb.cleanup());

async function nodeFile(labDir: string, i: number): Promise<string> {
  return readFile(join(labDir, "nodes", `node-${i}.yaml`), "utf8");
}

function expectedNode(name: string, i: number): string {
  return `name: ${name}-node-${i}\nrole: ${i === 0 ? "server" : "agent"}\ncluster: ${name}\n`;
}

describe.skipIf(!hasAnsible)("ansible extra vars are data (real ansible-playbook)", { timeout: 120_000 }, () => {
  it("local-lab package: values arrive verbatim through plan, install and destroy; nothing runs", async () => {
    const tgz = await buildFixture(sb, "local-lab");
    const envFile = join(sb.dir, "evil.env");
    // Double quotes: the env-file grammar keeps ` #` and quotes inside the value.
    await writeFile(envFile, `LAB_DIR="./${DIR}"\nLAB_CLUSTER_NAME="${NAME}"\nLAB_NODE_COUNT=2\nLAB_JOIN_TOKEN="${TOKEN}"\n`);
    const labDir = join(sb.dir, DIR);

    const plan = await runInfra(sb, ["profile", "plan", "--tgz", tgz, "--env-file", envFile, "--instance", "evil"]);
    expect(plan.code, plan.stderr).toBe(0);
    const install = await runInfra(sb, [
      "profile",
      "install",
      "--tgz",
      tgz,
      "--env-file",
      envFile,
      "--instance",
      "evil",
      "--yes",
      "--json",
    ]);
    expect(install.code, install.stderr).toBe(0);
    // The playbook wrote the values into the lab: byte for byte.
    expect(await nodeFile(labDir, 0)).toBe(expectedNode(NAME, 0));
    expect(await nodeFile(labDir, 1)).toBe(expectedNode(NAME, 1));
    const { createHash } = await import("node:crypto");
    expect((await readFile(join(labDir, "join-token.sha256"), "utf8")).trim()).toBe(createHash("sha256").update(TOKEN).digest("hex"));
    // And reported them back as outputs, unchanged.
    const outputs = (JSON.parse(install.stdout) as { outputs: Record<string, unknown> }).outputs;
    expect(outputs.cluster_name).toBe(NAME);
    expect(outputs.lab_dir).toBe(labDir);

    // destroy.yml reads the stored outputs as a nested dict (pk3s_outputs.lab_dir): data too.
    const destroy = await runInfra(sb, ["profile", "destroy", "--instance", "evil", "--yes", "--env-file", envFile]);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(await exists(labDir)).toBe(false);

    expect(await readdir(pwn)).toEqual([]);
  }, 120_000); // several real ansible-playbook runs: seconds each, far more on a loaded machine

  it("local-lab source profile (dev surface): the same values, verbatim, nothing runs", async () => {
    const profileEnv = join(fixturesDir, "profiles-src/profiles/local/local-lab/lab.env");
    const labDir = join(sb.dir, "dev", DIR);
    const apply = await runInfra(sb, [
      "dev",
      "profile",
      "apply",
      "--profile-env",
      profileEnv,
      "--set",
      `LAB_DIR=${labDir}`,
      "--set",
      `LAB_CLUSTER_NAME=${NAME}`,
      "--set",
      "LAB_NODE_COUNT=1",
      "--instance",
      "evil-dev",
      "--yes",
    ]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(await nodeFile(labDir, 0)).toBe(expectedNode(NAME, 0));
    expect(await readdir(pwn)).toEqual([]);
  }, 120_000);

  it("nested dicts and lists keep every string unsafe at any depth", async () => {
    const dir = join(sb.dir, "nested");
    await mkdir(dir, { recursive: true });
    const marker = (n: string) => `{{ lookup('pipe','touch ${pwn}/${n}') }}`;
    const vars = {
      top: marker("top"),
      nested: { a: marker("a"), deeper: { b: `{% if lookup('pipe','touch ${pwn}/b') %}{% endif %}` } },
      list: [marker("l0"), { c: "{# gone if templated #}" }, 3, true, null],
    };
    await writeFile(join(dir, "vars.json"), JSON.stringify(unsafeForAnsible(vars)));
    await writeFile(join(dir, "inventory.ini"), "localhost ansible_connection=local ansible_python_interpreter=auto_silent\n");
    await writeFile(
      join(dir, "playbook.yml"),
      [
        "- hosts: all",
        "  gather_facts: false",
        "  tasks:",
        "    - ansible.builtin.copy:",
        `        dest: ${join(dir, "out.json")}`,
        "        content: \"{{ {'top': top, 'a': nested.a, 'b': nested.deeper.b, 'l0': list[0], 'c': list[1].c, 'n': list[2], 't': list[3]} | to_json }}\"",
        "",
      ].join("\n"),
    );
    const r = spawnSync("ansible-playbook", ["-i", "inventory.ini", "--extra-vars", "@vars.json", "playbook.yml"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, ANSIBLE_NOCOLOR: "1", ANSIBLE_LOCAL_TEMP: join(dir, "tmp") },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(dir, "out.json"), "utf8"))).toEqual({
      top: vars.top,
      a: vars.nested.a,
      b: vars.nested.deeper.b,
      l0: vars.list[0],
      c: "{# gone if templated #}",
      n: 3,
      t: true,
    });
    expect(await readdir(pwn)).toEqual([]);
  });
});

describe("unsafeForAnsible", () => {
  it("wraps every string, keeps other scalars, leaves out the decoder's marker keys", () => {
    expect(unsafeForAnsible({ a: "x", n: 1, b: false, z: null, l: ["y", 2], d: { __ansible_vault: "v", k: "w" } })).toEqual({
      a: { __ansible_unsafe: "x" },
      n: 1,
      b: false,
      z: null,
      l: [{ __ansible_unsafe: "y" }, 2],
      d: { k: { __ansible_unsafe: "w" } },
    });
  });
});

describe("keys Ansible's JSON decoder reserves", () => {
  it("cannot be inputs of an ansible profile (exit 4 naming the key)", async () => {
    const tgz = await buildFixture(sb, "local-lab");
    const r = await runInfra(sb, ["profile", "validate", "--tgz", tgz, "--set", "LAB_DIR=/x", "--set", "__ansible_vault=x"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("__ansible_vault: __ansible_vault is reserved by Ansible's JSON format and cannot be an extra var");
  });
});
