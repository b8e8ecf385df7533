/**
 * "Did you mean" suggestions, one rule for the three binaries: unknown
 * commands, unknown package names, undeclared env keys.
 */

/** Levenshtein distance, abandoning early once it exceeds `max`. */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      row.push(value);
      if (value < best) best = value;
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The closest candidate within `max` edits (ties: first in order), or undefined. */
export function closestName(name: string, candidates: Iterable<string>, max = 2): string | undefined {
  let found: string | undefined;
  let bestDistance = max + 1;
  for (const candidate of candidates) {
    if (candidate === name) return undefined;
    const d = editDistance(name, candidate, max);
    if (d < bestDistance) {
      bestDistance = d;
      found = candidate;
    }
  }
  return found;
}

/**
 * The suggestion for a mistyped name among `candidates`: within 2 edits, and
 * within 1 for names of 4 characters or fewer (so "db" does not suggest "x").
 */
export function suggestName(name: string, candidates: Iterable<string>): string | undefined {
  return closestName(name, candidates, name.length <= 4 ? 1 : 2);
}

/** ` (Did you mean X?)` (commander's wording) to append to a message, or "" without a close candidate. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const s = suggestName(name, candidates);
  return s === undefined ? "" : ` (Did you mean ${s}?)`;
}
