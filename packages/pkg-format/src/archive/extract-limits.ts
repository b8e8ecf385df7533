/**
 * Resource limits for reading untrusted archives. Every limit is enforced
 * while streaming, before the data is written anywhere.
 */
export interface ExtractLimits {
  /** Most entries (files, directories, anything else) in one archive. */
  maxEntries: number;
  /** Largest single file, in bytes (uncompressed). */
  maxFileBytes: number;
  /** Largest total of all file sizes, in bytes (uncompressed). */
  maxTotalBytes: number;
  /** Largest ratio of uncompressed tar bytes to compressed bytes read so far. */
  maxRatio: number;
  /** The ratio is only enforced once this many uncompressed bytes were produced (small archives of tiny files compress well). */
  ratioGraceBytes: number;
  /** Largest PAX / GNU long-name metadata record. */
  maxMetaBytes: number;
}

const GiB = 1024 ** 3;

export const DEFAULT_LIMITS: Readonly<ExtractLimits> = Object.freeze({
  maxEntries: 100_000,
  maxFileBytes: 2 * GiB,
  maxTotalBytes: 8 * GiB,
  maxRatio: 200,
  ratioGraceBytes: 1024 * 1024,
  maxMetaBytes: 1024 * 1024,
});

export function resolveLimits(overrides: Partial<ExtractLimits> = {}): ExtractLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(overrides) as [keyof ExtractLimits, number | undefined][]) {
    if (v === undefined) continue;
    if (typeof v !== "number" || !(v > 0)) throw new TypeError(`extract limit ${k} must be a positive number, got ${String(v)}`);
    out[k] = v;
  }
  return out;
}
