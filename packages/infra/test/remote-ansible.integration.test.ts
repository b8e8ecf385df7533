/**
 * Remote Ansible targets for real: a private sshd on 127.0.0.1 (fixtures/sshd.ts) is "the server", the
 * real ansible-playbook reaches it over SSH with the inventory Infra builds from the remote-lab
 * profile's inputs, and the SSH key given as an input lives only in a 0600 file of the run's private
 * temp dir.
 */
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { generateKeyPair, hasSshd, type SshServer, startSshd } from "../../../fixtures/sshd.js";
import { buildFixture, exists, filesContaining, hasAnsible, instanceDir, readJson, runInfra, type Sandbox, sandbox } from "./helpers.js";

const enabled = hasAnsible && hasSshd;
/** A playbook run over SSH gathers facts and copies modules: seconds each, more on a loaded machine. */
const SLOW = 180_000;

let sb: Sandbox;
let sshd: SshServer;
let tgz: string;
/** TMPDIR of the infra child: its private temp dirs land here, so the test can see that they are gone. */
let childTmp: string;
/** ansible-playbook wrapper that records its argv and the inventory it was given, then runs the real one. */
let wrapper: string;
let argvLog: string;
let remoteDir: string;

/** An env file with the key in double quotes (`\n` escapes): the form an operator's local override takes. */
async function overrides(name: string, values: Record<string, string>): Promise<string> {
  const file = join(sb.dir, `${name}.env`);
  const lines = Object.entries(values).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  await writeFile(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  return file;
}

function serverValues(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SERVER_HOST: sshd.host,
    SERVER_SSH_PORT: String(sshd.port),
    SERVER_SSH_USER: sshd.user,
    SERVER_SSH_KEY: sshd.clientKey,
    REMOTE_DIR: remoteDir,
    ...extra,
  };
}

function infra(args: string[]) {
  return runInfra(sb, args, { env: { TMPDIR: childTmp, PK3S_ANSIBLE_PLAYBOOK_BIN: wrapper, PK3S_TEST_ARGV_LOG: argvLog } });
}

interface Recorded {
  argv: string[];
  inventory: string;
}

async function recordedCalls(): Promise<Recorded[]> {
  const text = await readFile(argvLog, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Recorded);
}

beforeAll(async () => {
  if (!enabled) return;
  sb = await sandbox();
  sshd = await startSshd();
  tgz = await buildFixture(sb, "remote-lab");
  childTmp = join(sb.dir, "tmp");
  remoteDir = join(sb.dir, "server-side", "lab");
  await mkdir(childTmp, { recursive: true });
  argvLog = join(sb.dir, "ansible-argv.ndjson");
  wrapper = join(sb.dir, "ansible-playbook-wrapper");
  const real = spawnSync("sh", ["-c", "command -v ansible-playbook"], { encoding: "utf8" }).stdout.trim();
  await writeFile(
    wrapper,
    `#!/usr/bin/env python3
import json, os, sys
argv = sys.argv[1:]
inventory = ""
if "-i" in argv:
    with open(argv[argv.index("-i") + 1]) as f:
        inventory = f.read()
with open(os.environ["PK3S_TEST_ARGV_LOG"], "a") as log:
    log.write(json.dumps({"argv": argv, "inventory": inventory}) + "\\n")
os.execv(${JSON.stringify(real)}, [${JSON.stringify(real)}] + argv)
`,
    { mode: 0o755 },
  );
}, 60_000);

afterAll(async () => {
  if (!enabled) return;
  await sshd?.stop();
  await sb?.cleanup();
});

describe.skipIf(!enabled)("remote ansible over real SSH", () => {
  it(
    "validate says where the playbook runs; install reaches the server over SSH with the key as a removed 0600 file",
    async () => {
      const env = await overrides("server", serverValues());
      const v = await infra(["profile", "validate", "--tgz", tgz, "--env-file", env, "--json"]);
      expect(v.code, v.stderr).toBe(0);
      expect((JSON.parse(v.stdout) as { target: unknown }).target).toEqual({
        kind: "remote",
        summary:
          "runs on the hosts named by SERVER_HOST, AGENT_HOSTS, over SSH (inventory built from the inputs; host keys recorded on first contact in the instance's known_hosts)",
      });

      const r = await infra(["profile", "install", "--tgz", tgz, "--env-file", env, "--auto-approve", "--json"]);
      expect(r.code, r.stderr).toBe(0);

      // The play ran on "the server", reached through sshd: SSH_CONNECTION ends with the server's port.
      const prepared = await readJson<Record<string, string>>(join(remoteDir, "prepared.json"));
      expect(prepared.inventory_hostname).toBe("server");
      expect(prepared.ansible_host).toBe("127.0.0.1");
      expect(prepared.remote_user).toBe(sshd.user);
      expect(prepared.ssh_connection).toMatch(new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${sshd.port}$`));
      expect(sshd.log()).toContain(`Accepted publickey for ${sshd.user} from 127.0.0.1`);

      // The key was a 0600 file in the run's private temp dir, and is gone now.
      const keyFile = prepared.key_file as string;
      expect(keyFile.startsWith(join(childTmp, "pk3s-ansible-"))).toBe(true);
      expect(keyFile.endsWith("/ssh-key")).toBe(true);
      expect(await exists(keyFile)).toBe(false);
      expect(await readdir(childTmp)).toEqual([]);
      const outputs = (JSON.parse(r.stdout) as { outputs: Record<string, string> }).outputs;
      expect(outputs).toMatchObject({ server: "127.0.0.1", key_file_mode: "0600", remote_dir: remoteDir });

      // Never on argv: ansible-playbook got the generated inventory by path, the key only inside it by path.
      const [call] = await recordedCalls();
      expect(call?.argv.slice(0, 2)).toEqual(["-i", expect.stringMatching(/\/pk3s-ansible-[^/]+\/inventory\.yml$/)]);
      expect(JSON.stringify(call?.argv)).not.toContain("PRIVATE KEY");
      expect(call?.inventory).toContain('"server":\n      ansible_host: !unsafe "127.0.0.1"');
      expect(call?.inventory).toContain(`ansible_port: ${sshd.port}`);
      expect(call?.inventory).toContain(`ansible_ssh_private_key_file: !unsafe ${JSON.stringify(keyFile)}`);
      expect(call?.inventory).toContain('  children:\n    k3s_server:\n      hosts:\n        "server": {}');
      expect(call?.inventory).not.toContain("PRIVATE KEY");

      // The host key was recorded in the instance's own known_hosts (accept-new).
      const knownHosts = join(instanceDir(sb, "remote-lab"), "engine", "known_hosts");
      expect(spawnSync("ssh-keygen", ["-F", `[127.0.0.1]:${sshd.port}`, "-f", knownHosts]).status).toBe(0);
      expect((await stat(knownHosts)).mode & 0o777).toBe(0o600);

      // The key is sensitive: in no state file, run log or output.
      const keyLine = sshd.clientKey.split("\n")[1] as string;
      expect(await filesContaining(sb.state, keyLine)).toEqual([]);
      expect(`${r.stdout}${r.stderr}`).not.toContain(keyLine);
      const status = await infra(["profile", "status", "--instance", "remote-lab", "--json"]);
      expect((JSON.parse(status.stdout) as { sensitiveInputs: string[] }).sensitiveInputs).toEqual(["SERVER_SSH_KEY"]);
    },
    SLOW,
  );

  it(
    "a changed host key fails the run (the instance's known_hosts is insisted on); the key file is gone on that path too",
    async () => {
      const knownHosts = join(instanceDir(sb, "remote-lab"), "engine", "known_hosts");
      const saved = await readFile(knownHosts, "utf8");
      const impostor = await generateKeyPair(sb.dir, "impostor-host");
      await writeFile(knownHosts, `[127.0.0.1]:${sshd.port} ${impostor.publicKey.split(" ").slice(0, 2).join(" ")}\n`);
      try {
        const env = await overrides("server", serverValues());
        const r = await infra(["profile", "plan", "--tgz", tgz, "--env-file", env]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("REMOTE HOST IDENTIFICATION HAS CHANGED");
        expect(r.stderr).toContain("Host key verification failed");
        expect(await readdir(childTmp)).toEqual([]);
      } finally {
        await writeFile(knownHosts, saved);
      }
    },
    SLOW,
  );

  it(
    "a knownHosts input pins the host key: the right key connects, another one does not",
    async () => {
      const pinned = await buildFixture(sb, "remote-lab", async (dir) => {
        const manifest = parse(await readFile(join(dir, "profile.yaml"), "utf8")) as {
          metadata: { name: string };
          spec: { engine: { inventory: Record<string, unknown> }; inputs: Record<string, unknown>[] };
        };
        manifest.metadata.name = "remote-lab-pinned";
        manifest.spec.engine.inventory.knownHosts = { input: "SERVER_KNOWN_HOSTS" };
        manifest.spec.inputs.push({
          name: "SERVER_KNOWN_HOSTS",
          required: true,
          source: "local-override",
          description: "known_hosts lines",
        });
        await writeFile(join(dir, "profile.yaml"), stringify(manifest));
      });
      const good = await overrides(
        "pinned-good",
        serverValues({ SERVER_KNOWN_HOSTS: sshd.knownHostsLine, REMOTE_DIR: join(sb.dir, "pinned") }),
      );
      const ok = await infra(["profile", "plan", "--tgz", pinned, "--env-file", good]);
      expect(ok.code, ok.stderr).toBe(0);
      expect((await recordedCalls()).at(-1)?.inventory).toContain("-o StrictHostKeyChecking=yes");
      expect(await exists(join(instanceDir(sb, "remote-lab-pinned"), "engine", "known_hosts"))).toBe(false);
      const other = await generateKeyPair(sb.dir, "other-host");
      const bad = await overrides(
        "pinned-bad",
        serverValues({ SERVER_KNOWN_HOSTS: `[127.0.0.1]:${sshd.port} ${other.publicKey}`, REMOTE_DIR: join(sb.dir, "pinned") }),
      );
      const refused = await infra(["profile", "plan", "--tgz", pinned, "--env-file", bad]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("Host key verification failed");
    },
    SLOW,
  );

  it(
    "no silent fallback to this machine: empty or malformed hosts are input errors (exit 4) before anything runs",
    async () => {
      const before = (await recordedCalls()).length;
      const empty = await overrides("empty", serverValues({ SERVER_HOST: " , " }));
      const r = await infra(["profile", "install", "--tgz", tgz, "--env-file", empty, "--auto-approve", "--instance", "empty-hosts"]);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(
        "the inventory has no hosts: SERVER_HOST, AGENT_HOSTS are empty (the playbook never falls back to this machine)",
      );
      const bad = await overrides("bad", serverValues({ AGENT_HOSTS: "10.0.0.7 $(touch /tmp/x)", SERVER_SSH_PORT: "22x" }));
      const b = await infra(["profile", "validate", "--tgz", tgz, "--env-file", bad]);
      expect(b.code).toBe(4);
      expect(b.stderr).toContain(
        'AGENT_HOSTS (host list of spec.engine.inventory.hosts[1]) holds "$(touch": expected a host name or an IP address',
      );
      expect(b.stderr).toContain('SERVER_SSH_PORT (the SSH port) holds "22x": expected a TCP port number from 1 to 65535');
      const notKey = await overrides("notkey", serverValues({ SERVER_SSH_KEY: "hunter2-not-a-key" }));
      const k = await infra(["profile", "validate", "--tgz", tgz, "--env-file", notKey]);
      expect(k.code).toBe(4);
      expect(k.stderr).toContain("SERVER_SSH_KEY (the SSH private key) does not hold a private key");
      expect(k.stderr).not.toContain("hunter2");
      expect((await recordedCalls()).length).toBe(before);
    },
    SLOW,
  );

  it(
    "destroy runs destroy.yml on the server over SSH again, with the key passed again (sensitive inputs are never stored)",
    async () => {
      const withoutKey = await infra(["profile", "destroy", "--instance", "remote-lab", "--auto-approve"]);
      expect(withoutKey.code).toBe(4);
      expect(withoutKey.stderr).toContain("SERVER_SSH_KEY");
      const env = await overrides("key-only", { SERVER_SSH_KEY: sshd.clientKey });
      const r = await infra(["profile", "destroy", "--instance", "remote-lab", "--env-file", env, "--auto-approve"]);
      expect(r.code, r.stderr).toBe(0);
      expect(await exists(remoteDir)).toBe(false);
      expect(await readdir(childTmp)).toEqual([]);
    },
    SLOW,
  );
});
