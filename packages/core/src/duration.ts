import { parseDurationMs } from "@productive-k3s/pkg-format/cli";

/** A `--timeout` value: milliseconds for our own timers, and the Go-duration text passed to Helm. */
export interface Timeout {
  ms: number;
  /** Go duration as Helm expects it, e.g. `10m`, `90s`, `1h30m`. */
  text: string;
}

/**
 * Parse a Go-style duration (`10m`, `90s`, `1h30m`, `500ms`) like Helm's
 * `--timeout`, with the grammar every CLI shares (pkg-format's parseDurationMs).
 * A bare number is taken as seconds and passed to Helm as `<n>s`.
 */
export function parseTimeout(value: string): Timeout {
  const ms = parseDurationMs(value);
  const trimmed = value.trim();
  return { ms, text: /^\d+$/.test(trimmed) ? `${Number(trimmed)}s` : trimmed };
}
