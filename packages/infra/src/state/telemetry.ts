/**
 * Opt-in export of run-record events (off unless PK3S_TELEMETRY_ENDPOINT is
 * set). One POST of `{source, events}` as JSON at the end of a command, with
 * a 500 ms budget; failures are ignored. The payload is allowlisted: event
 * names, timings, exit codes, the profile's name/version/engine, run and
 * correlation ids, change counts. Never values, instance names (user-chosen,
 * may name hosts), paths, hostnames or IP addresses.
 */
export interface RunEvent {
  event: string;
  ts: string;
  runId: string;
  correlationId: string;
  [key: string]: unknown;
}

const ALLOWED = [
  "event",
  "ts",
  "runId",
  "correlationId",
  "action",
  "profile",
  "version",
  "engine",
  "step",
  "exitCode",
  "durationMs",
  "status",
];
const COUNT_KEYS = ["add", "change", "destroy"];
const TIMEOUT_MS = 500;

export function telemetryEndpoint(): string | undefined {
  const value = process.env.PK3S_TELEMETRY_ENDPOINT;
  if (value === undefined || value === "") return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** Keep only allowlisted scalar fields (strings limited to a safe charset). */
export function allowlistEvent(event: RunEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ALLOWED) {
    const value = event[key];
    if (typeof value === "number" && Number.isFinite(value)) out[key] = value;
    else if (typeof value === "string" && /^[A-Za-z0-9._:+-]{1,80}$/.test(value)) out[key] = value;
  }
  const changes = event.changes;
  if (typeof changes === "object" && changes !== null) {
    const counts: Record<string, number> = {};
    for (const k of COUNT_KEYS) {
      const v = (changes as Record<string, unknown>)[k];
      if (typeof v === "number") counts[k] = v;
    }
    out.changes = counts;
  }
  return out;
}

export async function exportEvents(events: readonly RunEvent[]): Promise<void> {
  const endpoint = telemetryEndpoint();
  if (endpoint === undefined || events.length === 0) return;
  try {
    await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ source: "productive-k3s-infra", events: events.map(allowlistEvent) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    // best effort: never fails the command
  }
}
