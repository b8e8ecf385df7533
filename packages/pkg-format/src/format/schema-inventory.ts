/**
 * `spec.engine.inventory` of an Ansible profile: which machines the playbook
 * runs on. Either a path to an inventory shipped in the package (the targets
 * are fixed by the package), or a description of how Infra builds the
 * inventory from the profile's inputs (the targets come from the invoking
 * machine):
 *
 *   inventory:
 *     hosts:
 *       - input: ONPREM_SERVER_IP          # one host, or several separated by spaces or commas
 *         name: server                     # optional inventory name (several values: server-1, server-2, ...)
 *         groups: [k3s_server]
 *       - input: ONPREM_AGENT_IPS
 *         groups: [k3s_agents]
 *     user: {input: ONPREM_SSH_USER}       # or a literal: user: ubuntu
 *     port: {input: ONPREM_SSH_PORT}       # or a literal: port: 2222 (default 22)
 *     sshKey: {input: ONPREM_SSH_KEY}      # the private key itself (a sensitive input), or
 *     sshKeyPath: {input: ONPREM_SSH_KEY_PATH}  # a path to it on the invoking machine
 *     knownHosts: {input: ONPREM_KNOWN_HOSTS}   # optional known_hosts lines pinning the host keys
 *     become: true
 *
 * A profile that declares no inventory runs its playbook on the invoking
 * machine (connection local), by declaration.
 *
 * The value rules (what a host, a user, a port may be) are here too, so the
 * runtime checks input values with the same rules the schema documents.
 */
import { z } from "zod";
import { ENV_NAME, packagePath } from "./schema-common.js";

/** A host name (RFC 1123 labels) or an IPv4 address. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** An IPv6 address (hex groups and colons, optionally an embedded IPv4 tail); no zone ids, no brackets. */
const IPV6 = /^(?=.*:)[0-9A-Fa-f:.]{2,45}$/;
/** A POSIX user name as `useradd` accepts it. */
const SSH_USER = /^[a-z_][a-z0-9_.-]{0,31}$/;
/** Inventory host aliases and group names: nothing Ansible's patterns (`:`, `,`, `!`, `&`, `*`) would read. */
const ALIAS = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const GROUP = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function isInventoryHost(value: string): boolean {
  return HOST_NAME.test(value) || IPV6.test(value);
}

export function isSshUser(value: string): boolean {
  return SSH_USER.test(value);
}

export function isSshPort(value: string): boolean {
  return /^[0-9]{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535;
}

/** The hosts an input value names: separated by whitespace or commas, empty items dropped. */
export function splitHostList(value: string): string[] {
  return value.split(/[\s,]+/).filter((h) => h !== "");
}

export const HOST_RULE = "a host name or an IP address (several separated by spaces or commas)";
export const USER_RULE = "a user name: lowercase letters, digits, '_', '.', '-', starting with a letter or '_', at most 32 characters";
export const PORT_RULE = "a TCP port number from 1 to 65535";

const inputName = z.string().regex(ENV_NAME, { error: "expected the name of an input ([A-Za-z_][A-Za-z0-9_]*)" });
export const inputRef = z.object({ input: inputName });

export const inventoryHost = z.object({
  input: inputName,
  name: z
    .string()
    .regex(ALIAS, { error: "expected an inventory name: letters, digits, '.', '_', '-', starting and ending with a letter or digit" })
    .optional(),
  groups: z
    .array(z.string().regex(GROUP, { error: "expected an Ansible group name: letters, digits and '_', not starting with a digit" }))
    .optional(),
});

export const generatedInventory = z.object({
  hosts: z.array(inventoryHost).min(1, { error: "expected at least one host entry ({input: NAME})" }),
  user: z.union([z.string().regex(SSH_USER, { error: `expected ${USER_RULE}` }), inputRef]).optional(),
  port: z.union([z.number().int().min(1).max(65535), inputRef], { error: `expected ${PORT_RULE} or {input: NAME}` }).optional(),
  sshKey: inputRef.optional(),
  sshKeyPath: inputRef.optional(),
  knownHosts: inputRef.optional(),
  become: z.boolean().optional(),
});

/** A packaged inventory file (relative to the engine's workingDir), or an inventory built from inputs. */
export const ansibleInventory = z.union([packagePath, generatedInventory], {
  error: "expected a path to an inventory in the package, or {hosts: [{input: NAME}], user, port, sshKey | sshKeyPath, knownHosts, become}",
});

export type GeneratedInventory = z.infer<typeof generatedInventory>;
export type InventoryHost = z.infer<typeof inventoryHost>;

/** Every input an inventory reads, with the field that reads it (for the cross-check against spec.inputs). */
export function inventoryInputs(inventory: GeneratedInventory): { path: (string | number)[]; input: string }[] {
  const out: { path: (string | number)[]; input: string }[] = [];
  inventory.hosts.forEach((h, i) => {
    out.push({ path: ["hosts", i, "input"], input: h.input });
  });
  for (const key of ["user", "port", "sshKey", "sshKeyPath", "knownHosts"] as const) {
    const ref = inventory[key];
    if (typeof ref === "object") out.push({ path: [key, "input"], input: ref.input });
  }
  return out;
}
