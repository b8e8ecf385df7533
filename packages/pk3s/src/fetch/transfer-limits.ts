/**
 * How long one HTTP(S) request may take, read from the environment once per
 * command. Four bounds, in the spirit of curl's `--connect-timeout`,
 * `--max-time` and `--speed-limit/--speed-time`:
 *
 * - PK3S_CONNECT_TIMEOUT (seconds, default 10): TCP + TLS (+ proxy CONNECT).
 * - PK3S_HTTP_TIMEOUT (seconds, default 30): no byte at all for this long.
 * - PK3S_HTTP_MIN_RATE (bytes per second, `k`/`m` suffixes for KiB/MiB,
 *   default 10k; 0 turns it off) over PK3S_HTTP_RATE_WINDOW (seconds,
 *   default 30): fewer bytes than rate × window in a window aborts.
 * - PK3S_HTTP_DEADLINE (seconds, default 300; 0 turns it off): the whole
 *   request, redirects included, must finish within this many seconds plus
 *   the time its size takes at PK3S_HTTP_MIN_RATE. The size is the server's
 *   Content-Length, else the catalog entry's `size`, else what has arrived
 *   so far (so the average rate cannot fall below the minimum for long).
 *
 * None of these is retried: a stalled or trickling server would only
 * multiply the wait the user configured.
 */
import { UsageError } from "@productive-k3s/pkg-format/errors";

export interface TransferLimits {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Base of the overall deadline; 0 = no deadline. */
  deadlineMs: number;
  /** Bytes per second; 0 = no rate floor (and no size scaling of the deadline). */
  minRate: number;
  rateWindowMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** A duration in seconds from the environment, as milliseconds. */
export function envSeconds(name: string, fallback: number, allowZero = false, env: Env = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) {
    throw new UsageError(`${name} must be a ${allowZero ? "non-negative" : "positive"} number of seconds, got "${raw}"`, {
      hint: allowZero ? "0 turns the limit off" : undefined,
    });
  }
  return Math.round(n * 1000);
}

const RATE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 * 1024 };

function rate(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*([km]?)$/i.exec(raw.trim());
  if (m === null) {
    throw new UsageError(`${name} must be bytes per second (e.g. 10240, 10k or 1m; 0 turns it off), got "${raw}"`);
  }
  return Math.round(Number(m[1]) * (RATE_UNITS[m[2]!.toLowerCase()] ?? 1));
}

export function transferLimitsFromEnv(env: Env = process.env): TransferLimits {
  return {
    connectTimeoutMs: envSeconds("PK3S_CONNECT_TIMEOUT", 10, false, env),
    idleTimeoutMs: envSeconds("PK3S_HTTP_TIMEOUT", 30, false, env),
    deadlineMs: envSeconds("PK3S_HTTP_DEADLINE", 300, true, env),
    minRate: rate(env, "PK3S_HTTP_MIN_RATE", 10 * 1024),
    rateWindowMs: envSeconds("PK3S_HTTP_RATE_WINDOW", 30, false, env),
  };
}

/** The deadline for a request that has `bytes` to move (undefined: no deadline). */
export function deadlineFor(limits: TransferLimits, bytes: number): number | undefined {
  if (limits.deadlineMs === 0) return undefined;
  return limits.deadlineMs + (limits.minRate > 0 ? Math.ceil((bytes / limits.minRate) * 1000) : 0);
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}
