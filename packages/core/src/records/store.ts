/**
 * Where Core keeps install records for a cluster:
 *
 *   <state>/core/clusters/<sha256(server)[0:16]>/
 *     cluster.json                    {server, context}
 *     locks/<addon>.lock              one lock per cluster and add-on
 *     addons/<addon>/record.json      InstallRecord
 *     addons/<addon>/package.tgz      the installed package (uninstall runs its hooks)
 *     addons/<addon>/runs/<run>.log   one log per run
 *
 * Directories are 0700, files 0600, every write is atomic.
 */
import { readdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic, writeJsonAtomicSync } from "@productive-k3s/pkg-format/atomic";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { ensurePrivateDir, stateDir } from "@productive-k3s/pkg-format/paths";
import type { KubeTarget } from "../cluster/kubeconfig.js";
import { InstallRecord } from "./schema.js";

export interface ClusterStore {
  dir: string;
  target: Pick<KubeTarget, "server" | "context" | "clusterId">;
}

export function clusterStore(target: Pick<KubeTarget, "server" | "context" | "clusterId">): ClusterStore {
  return { dir: join(stateDir(), "core", "clusters", target.clusterId), target };
}

export const addonDir = (store: ClusterStore, name: string): string => join(store.dir, "addons", name);
export const recordFile = (store: ClusterStore, name: string): string => join(addonDir(store, name), "record.json");
export const keptPackageFile = (store: ClusterStore, name: string): string => join(addonDir(store, name), "package.tgz");
export const lockFile = (store: ClusterStore, name: string): string => join(store.dir, "locks", `${name}.lock`);
export const runLogFile = (store: ClusterStore, name: string, runId: string): string => join(addonDir(store, name), "runs", `${runId}.log`);

/** Create the cluster's directories and cluster.json. */
export async function prepareCluster(store: ClusterStore): Promise<void> {
  await ensurePrivateDir(join(store.dir, "addons"));
  await ensurePrivateDir(join(store.dir, "locks"));
  await writeJsonAtomic(join(store.dir, "cluster.json"), { server: store.target.server, context: store.target.context });
}

export async function prepareAddon(store: ClusterStore, name: string): Promise<void> {
  await ensurePrivateDir(join(addonDir(store, name), "runs"));
}

export async function readRecord(store: ClusterStore, name: string): Promise<InstallRecord | undefined> {
  const file = recordFile(store, name);
  let raw: unknown;
  try {
    raw = await readJsonFile(file);
  } catch (err) {
    throw new ValidationError(`install record ${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, [], {
      where: file,
    });
  }
  if (raw === undefined) return undefined;
  const parsed = InstallRecord.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(
      `install record ${file} is damaged`,
      parsed.error.issues.map((i) => ({ file, path: i.path.join("."), message: i.message, severity: "error" as const })),
      { where: file, hint: "inspect or remove the file; it is recreated by the next install" },
    );
  }
  return parsed.data;
}

export async function writeRecord(store: ClusterStore, record: InstallRecord): Promise<void> {
  await prepareAddon(store, record.name);
  await writeJsonAtomic(recordFile(store, record.name), InstallRecord.parse(record));
}

/**
 * Synchronous variant for the interrupt path (the process exits right after).
 * Still atomic: temp file + rename.
 */
export function writeRecordSync(store: ClusterStore, record: InstallRecord): void {
  try {
    writeJsonAtomicSync(recordFile(store, record.name), InstallRecord.parse(record));
  } catch {
    // best effort: the process is exiting; a later run detects the unfinished run
  }
}

/** Remove the record and the kept package; run logs stay for inspection. */
export async function removeRecord(store: ClusterStore, name: string): Promise<void> {
  await unlink(recordFile(store, name)).catch(() => undefined);
  await rm(keptPackageFile(store, name), { force: true });
}

export async function listRecords(store: ClusterStore): Promise<InstallRecord[]> {
  let names: string[];
  try {
    names = await readdir(join(store.dir, "addons"));
  } catch {
    return [];
  }
  const records: InstallRecord[] = [];
  for (const name of names.sort()) {
    const record = await readRecord(store, name);
    if (record !== undefined) records.push(record);
  }
  return records;
}
