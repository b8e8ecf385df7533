/** What pk3s needs to know about an add-on on the target cluster, read from Core's JSON. */
export interface InstalledState {
  installed: boolean;
  version?: string | undefined;
  status?: string | undefined;
  digest?: string | undefined;
  /** Keyed by Core: comparable only with fingerprints the same Core installation computes. */
  valuesFingerprint?: string | undefined;
  /** The stack whose install put this version there (Core's record). */
  stack?: { name: string; lockDigest?: string | undefined } | undefined;
  dependencies?: { name: string; version: string }[] | undefined;
  /** Changes with every run that writes the record. */
  runLog?: string | undefined;
  updatedAt?: string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function stackOf(v: unknown): InstalledState["stack"] {
  if (typeof v !== "object" || v === null) return undefined;
  const { name, lockDigest } = v as { name?: unknown; lockDigest?: unknown };
  return typeof name === "string" ? { name, lockDigest: str(lockDigest) } : undefined;
}

function dependenciesOf(v: unknown): InstalledState["dependencies"] {
  if (!Array.isArray(v)) return undefined;
  return v.flatMap((d: { name?: unknown; version?: unknown } | null) =>
    typeof d?.name === "string" ? [{ name: d.name, version: str(d.version) ?? "*" }] : [],
  );
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
    const r = a as Record<string, unknown>;
    if (typeof r.name !== "string") continue;
    const v = str(r.version);
    const st = str(r.status);
    out.set(r.name, {
      installed: st === "deployed" && v !== undefined,
      version: v,
      status: st,
      digest: str(r.digest),
      valuesFingerprint: str(r.valuesFingerprint),
      stack: stackOf(r.stack),
      dependencies: dependenciesOf(r.dependencies),
      runLog: str(r.runLog),
      updatedAt: str(r.updatedAt),
    });
  }
  return out;
}
