/**
 * Extra vars as data, never as templates.
 *
 * Ansible templates every string it uses: an input value
 * `{{ lookup('pipe','cmd') }}` passed as a plain extra var runs `cmd` on the
 * operator's machine as soon as a playbook reads it (red-team finding 1).
 * Every string we hand to a playbook is therefore written in Ansible's
 * "unsafe" JSON form, `{"__ansible_unsafe": "<value>"}`, at any depth
 * (nested outputs, lists). ansible-core's JSON decoder turns that into an
 * unsafe string (AnsibleUnsafeText up to 2.18; a string not tagged
 * TrustedAsTemplate from 2.19 on), which the templating engine never
 * evaluates: `{{`, `{%` and `{#` arrive verbatim. Numbers, booleans and null
 * are never templated and are written as they are.
 *
 * The same decoder reads an object holding the key `__ansible_unsafe` or
 * `__ansible_vault` as a marker, so such keys cannot be passed as data: at
 * the top level (input names) `reservedKeys` names them for the input check
 * (exit 4); inside nested values (stored outputs) they are left out.
 */

const UNSAFE = "__ansible_unsafe";
const RESERVED = new Set([UNSAFE, "__ansible_vault"]);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** `value` with every string wrapped as an unsafe (never templated) value. */
export function unsafeForAnsible(value: unknown): JsonValue {
  if (typeof value === "string") return { [UNSAFE]: value };
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "boolean" || value === null || value === undefined) return value ?? null;
  if (Array.isArray(value)) return value.map(unsafeForAnsible);
  if (typeof value === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) if (!RESERVED.has(k)) out[k] = unsafeForAnsible(v);
    return out;
  }
  return { [UNSAFE]: String(value) };
}

/** The keys Ansible's JSON decoder would read as a marker instead of a variable. */
export function reservedKeys(keys: Iterable<string>): string[] {
  return [...keys].filter((k) => RESERVED.has(k));
}
