/**
 * Placeholder values in a package's profile.env. Published profiles ship
 * values such as `your-existing-keypair` or `/absolute/path/to/your-key.pem`
 * for inputs the invoking machine must override: for a `local-override`
 * input that is the contract (the package value is dropped), so it is fine.
 * For any other key the install would use the placeholder as it is, which
 * the contract check reports as a warning.
 */
import type { Problem } from "@productive-k3s/pkg-format/errors";
import type { ProfileInput } from "@productive-k3s/pkg-format/schema-profile";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import { compareText } from "@productive-k3s/pkg-format/text-order";

const PLACEHOLDER_PATTERNS: readonly RegExp[] = [
  /^your[-_ ]/i,
  /(^|\/)path\/to\//i,
  /^<[^<>]+>$/,
  /^(change[-_ ]?me|replace[-_ ]?me|todo|tbd|fixme|x{3,})$/i,
];

export function looksLikePlaceholder(value: string): boolean {
  return PLACEHOLDER_PATTERNS.some((p) => p.test(value.trim()));
}

/** Warnings for placeholder-looking package values of keys the invoking machine is not required to override. */
export function placeholderWarnings(env: Record<string, string>, inputs: readonly ProfileInput[]): Problem[] {
  const overridden = new Set(inputs.filter((i) => i.source === "local-override").map((i) => i.name));
  const warnings: Problem[] = [];
  for (const [key, value] of Object.entries(env).sort(([a], [b]) => compareText(a, b))) {
    if (overridden.has(key) || !looksLikePlaceholder(value)) continue;
    warnings.push({
      file: "profile.env",
      path: key,
      severity: "warning",
      message: `${key}=${quoteForTerminal(value)} looks like a placeholder, but ${key} is not a local-override input: an install uses it as it is (declare it with source: local-override if the invoking machine must supply it)`,
    });
  }
  return warnings;
}
