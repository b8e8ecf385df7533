/** Edit distance for "did you mean" hints on env keys. */

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
