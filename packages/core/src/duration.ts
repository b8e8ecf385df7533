import { UsageError } from "@productive-k3s/pkg-format/errors";

/** A `--timeout` value: milliseconds for our own timers, and the Go-duration text passed to Helm. */
export interface Timeout {
  ms: number;
  /** Go duration as Helm expects it, e.g. `10m`, `90s`, `1h30m`. */
  text: string;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parse a Go-style duration (`10m`, `90s`, `1h30m`, `500ms`) like Helm's
 * `--timeout`. A bare number is taken as seconds (and passed to Helm as `<n>s`).
 */
export function parseTimeout(value: string): Timeout {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const seconds = Number(trimmed);
    if (seconds > 0) return { ms: seconds * 1000, text: `${seconds}s` };
  }
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let ms = 0;
  let consumed = 0;
  for (let m = re.exec(trimmed); m !== null; m = re.exec(trimmed)) {
    ms += Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 1000);
    consumed = re.lastIndex;
  }
  if (trimmed === "" || consumed !== trimmed.length || ms <= 0) {
    throw new UsageError(`invalid --timeout "${value}": expected a duration such as 90s, 10m or 1h30m`);
  }
  return { ms: Math.round(ms), text: trimmed };
}
