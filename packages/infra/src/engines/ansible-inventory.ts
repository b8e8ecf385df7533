/**
 * The inventory an Ansible profile runs with (`spec.engine.inventory`,
 * pkg-format's schema-inventory.ts):
 *
 * - none declared: the playbook runs on this machine (a generated
 *   `localhost ansible_connection=local` inventory), by declaration;
 * - a path: the package's own inventory file;
 * - `{hosts, user, port, sshKey | sshKeyPath, knownHosts, become}`: built
 *   from the merged inputs into a YAML inventory (0600, in the run's private
 *   temp dir), every host reached over SSH. It never falls back to
 *   localhost: hosts that are empty or malformed are input errors (exit 4).
 *
 * Values become inventory data tagged `!unsafe`, so Ansible never templates
 * them. An SSH key given as an input (`sshKey`) is written to a 0600 file in
 * the private temp dir (removed after the run on every exit path, see
 * private-temp.ts) and passed by path (`ansible_ssh_private_key_file`): never
 * on a command line. `sshKeyPath` is a path on the invoking machine
 * (relative paths resolve against the directory the command ran in).
 *
 * Host keys: with `knownHosts` (known_hosts lines from an input) only those
 * keys are accepted (StrictHostKeyChecking=yes). Otherwise the first
 * connection to a host records its key in the instance's own known_hosts
 * (`<instance>/engine/known_hosts`, StrictHostKeyChecking=accept-new) and
 * every later run of the instance insists on it: a changed host key fails
 * the run. The operator's ~/.ssh/known_hosts is never read or written.
 */
import { access, constants, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { Problem } from "@productive-k3s/pkg-format/errors";
import {
  HOST_RULE,
  isInventoryHost,
  isSshPort,
  isSshUser,
  PORT_RULE,
  splitHostList,
  USER_RULE,
} from "@productive-k3s/pkg-format/schema-inventory";
import type { GeneratedInventory, ProfileManifest } from "@productive-k3s/pkg-format/schema-profile";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";

export const LOCAL_INVENTORY = "localhost ansible_connection=local ansible_python_interpreter=auto_silent\n";

type Inputs = ProfileManifest["spec"]["inputs"];

/** The generated inventory's hosts: inventory name → address, and the groups each belongs to. */
interface PlannedHost {
  name: string;
  address: string;
  groups: string[];
}

interface Planned {
  hosts: PlannedHost[];
  user?: string;
  port?: number;
  sshKey?: string;
  sshKeyPath?: string;
  knownHosts?: string;
  problems: Problem[];
}

function sensitive(inputs: Inputs, name: string): boolean {
  return inputs.find((i) => i.name === name)?.sensitive === true;
}

/** A value quoted for a message, unless the input is sensitive. */
function shown(inputs: Inputs, name: string, value: string): string {
  return sensitive(inputs, name) ? "(value not shown: the input is sensitive)" : quoteForTerminal(value);
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]+-----END [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * The hosts and connection settings from the values, with every problem.
 * `missing` names required inputs already reported as missing (not reported twice).
 */
function plan(spec: GeneratedInventory, inputs: Inputs, values: Record<string, string>, missing: ReadonlySet<string>): Planned {
  const problems: Problem[] = [];
  const out: Planned = { hosts: [], problems };
  const at = "spec.engine.inventory";
  const seen = new Map<string, string>();
  let unknown = false;
  spec.hosts.forEach((entry, i) => {
    if (missing.has(entry.input)) {
      unknown = true;
      return;
    }
    const addresses = splitHostList(values[entry.input] ?? "");
    addresses.forEach((address, n) => {
      if (!isInventoryHost(address)) {
        problems.push({
          path: entry.input,
          severity: "error",
          message: `${entry.input} (host list of ${at}.hosts[${i}]) holds ${shown(inputs, entry.input, address)}: expected ${HOST_RULE}`,
        });
        return;
      }
      const name = entry.name === undefined ? address : addresses.length === 1 ? entry.name : `${entry.name}-${n + 1}`;
      const first = seen.get(name);
      if (first !== undefined) {
        problems.push({
          path: entry.input,
          severity: "error",
          message: `host ${quoteForTerminal(name)} from ${entry.input} is already in the inventory (from ${first}); give each host once`,
        });
        return;
      }
      seen.set(name, entry.input);
      out.hosts.push({ name, address, groups: entry.groups ?? [] });
    });
  });
  if (out.hosts.length === 0 && !unknown && problems.length === 0) {
    problems.push({
      path: at,
      severity: "error",
      message: `the inventory has no hosts: ${spec.hosts.map((h) => h.input).join(", ")} ${spec.hosts.length === 1 ? "is" : "are"} empty (the playbook never falls back to this machine)`,
    });
  }

  const fromInput = (ref: { input: string } | undefined): string | undefined => {
    if (ref === undefined || missing.has(ref.input)) return undefined;
    const v = values[ref.input] ?? "";
    return v === "" ? undefined : v;
  };
  /** A literal from the manifest (checked by the schema) or an input's value, checked against `rule`. */
  const setting = (
    ref: string | number | { input: string } | undefined,
    what: string,
    valid: (v: string) => boolean,
    rule: string,
  ): string | undefined => {
    if (typeof ref !== "object") return ref === undefined ? undefined : String(ref);
    const value = fromInput(ref);
    if (value === undefined || valid(value)) return value;
    problems.push({
      path: ref.input,
      severity: "error",
      message: `${ref.input} (the SSH ${what}) holds ${shown(inputs, ref.input, value)}: expected ${rule}`,
    });
    return undefined;
  };
  const user = setting(spec.user, "user", isSshUser, USER_RULE);
  if (user !== undefined) out.user = user;
  const port = setting(spec.port, "port", isSshPort, PORT_RULE);
  if (port !== undefined) out.port = Number(port);
  const key = fromInput(spec.sshKey);
  if (key !== undefined && spec.sshKey !== undefined) {
    if (PRIVATE_KEY.test(key)) out.sshKey = key.endsWith("\n") ? key : `${key}\n`;
    else {
      problems.push({
        path: spec.sshKey.input,
        severity: "error",
        message: `${spec.sshKey.input} (the SSH private key) does not hold a private key: expected the key file's content, from "-----BEGIN … PRIVATE KEY-----" to "-----END … PRIVATE KEY-----" (value not shown)`,
      });
    }
  }
  const keyPath = fromInput(spec.sshKeyPath);
  if (keyPath !== undefined) out.sshKeyPath = resolve(expandHome(keyPath));
  const known = fromInput(spec.knownHosts);
  if (known !== undefined) out.knownHosts = known.endsWith("\n") ? known : `${known}\n`;
  return out;
}

/** Problems with the values the inventory is built from (checked by validate, plan, install and destroy). */
export async function inventoryProblems(
  manifest: ProfileManifest,
  values: Record<string, string>,
  missing: ReadonlySet<string>,
): Promise<Problem[]> {
  const spec = manifest.spec.engine.inventory;
  if (spec === undefined || typeof spec === "string") return [];
  const planned = plan(spec, manifest.spec.inputs, values, missing);
  const problems = [...planned.problems];
  if (planned.sshKeyPath !== undefined && spec.sshKeyPath !== undefined) {
    const ok = await access(planned.sshKeyPath, constants.R_OK).then(
      () => true,
      () => false,
    );
    if (!ok) {
      problems.push({
        path: spec.sshKeyPath.input,
        severity: "error",
        message: `${spec.sshKeyPath.input} (the SSH private key path) names ${quoteForTerminal(planned.sshKeyPath)}, which is not a readable file on this machine`,
      });
    }
  }
  return problems;
}

/** A YAML scalar Ansible never templates: `!unsafe` + a double-quoted (JSON) string. */
function unsafe(value: string): string {
  return `!unsafe ${JSON.stringify(value)}`;
}

/** An argument of ssh's command line as Ansible splits `ansible_ssh_common_args` (shlex). */
function shlexQuote(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

export interface InventoryFiles {
  /** The `-i` argument. */
  inventory: string;
  /** Extra environment for ansible-playbook. */
  env: Record<string, string>;
}

/**
 * Write the inventory (and the key / known_hosts files it points to) into
 * `tmp`, the run's private temp dir. `knownHostsFile` is the instance's own
 * known_hosts, used when the profile pins no keys.
 */
export async function writeInventory(
  manifest: ProfileManifest,
  workingDir: string,
  values: Record<string, string>,
  tmp: string,
  knownHostsFile: string,
): Promise<InventoryFiles> {
  const spec = manifest.spec.engine.inventory;
  if (typeof spec === "string") return { inventory: join(workingDir, spec), env: {} };
  if (spec === undefined) {
    const inventory = join(tmp, "inventory.ini");
    await writeFile(inventory, LOCAL_INVENTORY, { mode: 0o600 });
    return { inventory, env: {} };
  }
  const planned = plan(spec, manifest.spec.inputs, values, new Set());
  // validate/plan/install checked the values first: a problem here is a bug, never a fallback.
  if (planned.problems.length > 0 || planned.hosts.length === 0) throw new Error("the inventory values were not checked before the run");

  const vars: [string, string][] = [
    ["ansible_connection", "ssh"],
    ["ansible_python_interpreter", "auto_silent"],
  ];
  if (planned.user !== undefined) vars.push(["ansible_user", unsafe(planned.user)]);
  if (planned.port !== undefined) vars.push(["ansible_port", String(planned.port)]);
  let keyFile = planned.sshKeyPath;
  if (planned.sshKey !== undefined) {
    keyFile = join(tmp, "ssh-key");
    await writeFile(keyFile, planned.sshKey, { mode: 0o600 });
  }
  if (keyFile !== undefined) vars.push(["ansible_ssh_private_key_file", unsafe(keyFile)]);
  let sshOptions: string;
  if (planned.knownHosts !== undefined) {
    const pinned = join(tmp, "known_hosts");
    await writeFile(pinned, planned.knownHosts, { mode: 0o600 });
    sshOptions = `-o UserKnownHostsFile=${shlexQuote(pinned)} -o StrictHostKeyChecking=yes`;
  } else {
    // Created here (0600, like every state file) so ssh only appends to it.
    await writeFile(knownHostsFile, "", { flag: "a", mode: 0o600 });
    sshOptions = `-o UserKnownHostsFile=${shlexQuote(knownHostsFile)} -o StrictHostKeyChecking=accept-new`;
  }
  // With a key of the profile's, ssh offers only that one (an agent full of keys can exhaust MaxAuthTries first).
  vars.push(["ansible_ssh_common_args", unsafe(keyFile === undefined ? sshOptions : `${sshOptions} -o IdentitiesOnly=yes`)]);
  if (spec.become === true) vars.push(["ansible_become", "true"]);

  // The connection settings are host vars, not `all` vars: Ansible gives `all` vars to the implicit localhost
  // too, and a task delegated to localhost (writing pk3s_outputs_file) must stay a local connection.
  const lines = ["all:", "  hosts:"];
  for (const h of planned.hosts) {
    lines.push(`    ${JSON.stringify(h.name)}:`, `      ansible_host: ${unsafe(h.address)}`, ...vars.map(([k, v]) => `      ${k}: ${v}`));
  }
  const groups = new Map<string, string[]>();
  for (const h of planned.hosts) for (const g of h.groups) groups.set(g, [...(groups.get(g) ?? []), h.name]);
  if (groups.size > 0) {
    lines.push("  children:");
    for (const [group, members] of groups) {
      lines.push(`    ${group}:`, "      hosts:", ...members.map((m) => `        ${JSON.stringify(m)}: {}`));
    }
  }
  const inventory = join(tmp, "inventory.yml");
  await writeFile(inventory, `${lines.join("\n")}\n`, { mode: 0o600 });
  // No SSH connection outlives the run (Ansible's default ControlPersist keeps one for 60 s), unless the
  // caller configured ssh_args themselves.
  const env: Record<string, string> = process.env.ANSIBLE_SSH_ARGS === undefined ? { ANSIBLE_SSH_ARGS: "-C -o ControlMaster=no" } : {};
  return { inventory, env };
}

/** One sentence for validate: where the playbook runs. */
export function describeInventory(manifest: ProfileManifest): string {
  const spec = manifest.spec.engine.inventory;
  if (spec === undefined) {
    return "runs on this machine: the profile declares no spec.engine.inventory, so the playbook connects to localhost (connection local)";
  }
  if (typeof spec === "string") return `runs on the hosts of the package's inventory ${manifest.spec.engine.workingDir}/${spec}`;
  const inputs = spec.hosts.map((h) => h.input).join(", ");
  return `runs on the hosts named by ${inputs}, over SSH (inventory built from the inputs; host keys ${spec.knownHosts === undefined ? "recorded on first contact in the instance's known_hosts" : `pinned by ${spec.knownHosts.input}`})`;
}
