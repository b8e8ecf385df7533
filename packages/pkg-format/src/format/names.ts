/**
 * Names that reach file paths, release names or lock files: one set of rules
 * for the three binaries (red-team finding: `addon uninstall ../../x` read
 * records outside the state directory).
 *
 * - package: a package name (add-on, profile, stack): DNS-1123 label, ≤ 53.
 * - instance: an Infra instance: lowercase letters, digits, '-', '_', '.',
 *   1–63 characters, starting and ending with a letter or digit, no "..".
 * - catalog: a configured catalog: DNS-1123 label, ≤ 63.
 * - namespace: a Kubernetes namespace: DNS-1123 label, ≤ 63.
 *
 * A rejected name is a usage error (exit 2) whose message never prints the
 * raw value: it is shown JSON-escaped and stripped of terminal controls.
 */

import { quoteForTerminal } from "../cli/terminal-text.js";
import { UsageError } from "../errors.js";
import { DNS_LABEL } from "./patterns.js";

export type NameKind = "package" | "instance" | "catalog" | "namespace";

interface NameRule {
  test(name: string): boolean;
  max: number;
  describe: string;
}

const INSTANCE_NAME = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;

const RULES: Record<NameKind, NameRule> = {
  package: {
    max: 53,
    test: (n) => DNS_LABEL.test(n),
    describe: "1-53 lowercase letters, digits and '-', starting and ending with a letter or digit (a DNS-1123 label)",
  },
  instance: {
    max: 63,
    test: (n) => INSTANCE_NAME.test(n) && !n.includes(".."),
    describe: "1-63 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
  },
  catalog: {
    max: 63,
    test: (n) => DNS_LABEL.test(n),
    describe: "1-63 lowercase letters, digits and '-', starting and ending with a letter or digit (like a DNS label), e.g. internal",
  },
  namespace: {
    max: 63,
    test: (n) => DNS_LABEL.test(n),
    describe: "1-63 lowercase letters, digits and '-', starting and ending with a letter or digit (a DNS-1123 label), e.g. longhorn-system",
  },
};

/** Whether `name` is a valid name of that kind. */
export function isValidName(kind: NameKind, name: string): boolean {
  const rule = RULES[kind];
  return name.length > 0 && name.length <= rule.max && rule.test(name);
}

/** What a valid name of that kind looks like (for hints and help). */
export function nameRuleText(kind: NameKind): string {
  return RULES[kind].describe;
}

/**
 * Return `name` when it is valid, else throw a UsageError (exit 2).
 * `label` says what the name is for, e.g. "add-on name" or "--instance".
 */
export function assertValidName(kind: NameKind, name: string, label: string = `${kind} name`): string {
  if (isValidName(kind, name)) return name;
  throw new UsageError(`invalid ${label} ${quoteForTerminal(name)}`, { hint: `use ${RULES[kind].describe}` });
}
