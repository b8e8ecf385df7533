/**
 * `addon history NAME`: the revisions of an installed add-on, oldest first:
 * every install, upgrade and rollback run with its version, package digest,
 * values fingerprint, time and result, and whether its package is still
 * kept (what `addon rollback` can go back to).
 */
import type { KubeOptions } from "../cluster/kubeconfig.js";
import type { HistoryEntry } from "../records/schema.js";
import { revisionPackage } from "../records/store.js";
import { readInstalled } from "./installed-addon.js";

export interface Revision extends HistoryEntry {
  /** The revision on the cluster now. */
  current: boolean;
  /** Its package is kept: `addon rollback --to <revision>` can reinstall it. */
  packageKept: boolean;
}

export interface HistoryResult {
  ok: true;
  name: string;
  version: string;
  cluster: { server: string; context: string };
  /** The revision on the cluster (absent for a record from before revisions). */
  current?: number | undefined;
  revisions: Revision[];
}

export async function addonHistory(options: KubeOptions & { name: string }): Promise<HistoryResult> {
  const { target, store, record } = await readInstalled(options);
  const revisions: Revision[] = [];
  // Several revisions may share a package: ask the state backend once per digest.
  const kept = new Map<string, Promise<boolean>>();
  const isKept = (digest: string): Promise<boolean> => {
    let known = kept.get(digest);
    if (known === undefined) {
      known = revisionPackage(store, record.name, digest).then((file) => file !== undefined);
      kept.set(digest, known);
    }
    return known;
  };
  for (const h of record.history) {
    const packageKept = h.action !== "uninstall" && (await isKept(h.digest));
    revisions.push({ ...h, current: h.revision !== undefined && h.revision === record.revision, packageKept });
  }
  return {
    ok: true,
    name: record.name,
    version: record.version,
    cluster: { server: target.server, context: target.context },
    current: record.revision,
    revisions,
  };
}
