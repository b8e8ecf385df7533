import { CoreAddonList } from "@productive-k3s/pkg-format/runtime-documents";

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

/**
 * Core's `addon list --json` answer as name → state, read with the document's
 * shared schema (pkg-format's runtime-documents). An add-on counts as
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
  const parsed = CoreAddonList.safeParse(doc);
  if (!parsed.success) return out;
  for (const a of parsed.data.addons) {
    out.set(a.name, {
      installed: a.status === "deployed",
      version: a.version,
      status: a.status,
      digest: a.digest,
      valuesFingerprint: a.valuesFingerprint,
      stack: a.stack,
      dependencies: a.dependencies,
      runLog: a.runLog,
      updatedAt: a.updatedAt,
    });
  }
  return out;
}
