/** What pk3s needs to know about an add-on on the target cluster, read from Core's JSON. */
export interface InstalledState {
  installed: boolean;
  version?: string | undefined;
  status?: string | undefined;
}

/**
 * Core's `addon list --json` answer as name → state. An add-on counts as
 * installed only when its record says deployed (a failed or interrupted run
 * must be installed again). Unreadable output means nothing is known installed.
 */
export function parseListOutput(stdout: string): Map<string, InstalledState> {
  const out = new Map<string, InstalledState>();
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return out;
  }
  const addons = typeof doc === "object" && doc !== null ? (doc as { addons?: unknown }).addons : undefined;
  if (!Array.isArray(addons)) return out;
  for (const a of addons) {
    if (typeof a !== "object" || a === null) continue;
    const { name, version, status } = a as { name?: unknown; version?: unknown; status?: unknown };
    if (typeof name !== "string") continue;
    const v = typeof version === "string" ? version : undefined;
    const st = typeof status === "string" ? status : undefined;
    out.set(name, { installed: st === "deployed" && v !== undefined, version: v, status: st });
  }
  return out;
}
