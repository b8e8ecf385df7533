/**
 * Masking of secret values in anything we print, log or store.
 * Each secret is also masked in its JSON-escaped and URL-encoded forms, the
 * shapes in which tools most often echo a value back.
 */
export type Redactor = (text: string) => string;

export const MASK = "***";

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function createRedactor(secrets: Iterable<string | undefined>): Redactor {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === undefined || secret === "") continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  if (forms.size === 0) return (text) => text;
  const pattern = new RegExp(
    [...forms]
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join("|"),
    "g",
  );
  return (text) => text.replace(pattern, MASK);
}

/** Combine redactors (each applied in turn). */
export function chainRedactors(...redactors: Redactor[]): Redactor {
  return (text) => redactors.reduce((acc, r) => r(acc), text);
}
