/**
 * Where Core keeps install records for a cluster:
 *
 *   <state>/core/clusters/<sha256(server)[0:16]>/
 *     cluster.json                    {server, context}
 *     locks/<addon>.lock              one lock per cluster and add-on
 *     addons/<addon>/record.json      InstallRecord
 *     addons/<addon>/package.tgz      the installed package (uninstall runs its hooks)
 *     addons/<addon>/packages/<sha256 hex>.tgz   packages of earlier revisions (rollback), a retention limit
 *     addons/<addon>/backups/<run>/   backups (backup.json and what the backup phase wrote), a retention limit
 *     addons/<addon>/runs/<run>.log   one log per run
 *
 *   <state>/core/values.key         the key of the values fingerprints (values-key.ts)
 *
 * Directories are 0700, files 0600, every write is atomic. Every add-on name
 * is checked (pkg-format's names) before it becomes a path: a name from the
 * command line, a record or a directory listing never leaves the cluster's
 * directory.
 */
import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { copyFileAtomic, readJsonFile, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import { warn } from "@productive-k3s/pkg-format/cli";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { assertValidName, isValidName } from "@productive-k3s/pkg-format/names";
import { ensurePrivateDir, stateDir } from "@productive-k3s/pkg-format/paths";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { KubeTarget } from "../cluster/kubeconfig.js";
import { InstallRecord } from "./schema.js";

export interface ClusterStore {
  dir: string;
  target: Pick<KubeTarget, "server" | "context" | "clusterId">;
}

export function clusterStore(target: Pick<KubeTarget, "server" | "context" | "clusterId">): ClusterStore {
  return { dir: join(coreStateDir(), "clusters", target.clusterId), target };
}

/** Core's part of the state directory (cluster stores, the values key). */
export const coreStateDir = (): string => join(stateDir(), "core");

export const addonDir = (store: ClusterStore, name: string): string =>
  join(store.dir, "addons", assertValidName("package", name, "add-on name"));
export const recordFile = (store: ClusterStore, name: string): string => join(addonDir(store, name), "record.json");
export const keptPackageFile = (store: ClusterStore, name: string): string => join(addonDir(store, name), "package.tgz");
export const lockFile = (store: ClusterStore, name: string): string =>
  join(store.dir, "locks", `${assertValidName("package", name, "add-on name")}.lock`);
export const runLogFile = (store: ClusterStore, name: string, runId: string): string => join(addonDir(store, name), "runs", `${runId}.log`);
export const backupsDir = (store: ClusterStore, name: string): string => join(addonDir(store, name), "backups");
const revisionPackagesDir = (store: ClusterStore, name: string): string => join(addonDir(store, name), "packages");

/** The kept package of a revision, by its digest (`sha256:<hex>`). */
export function revisionPackageFile(store: ClusterStore, name: string, digest: string): string {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
  if (hex === undefined) throw new ValidationError(`not a package digest: ${terminalLine(digest)}`, []);
  return join(revisionPackagesDir(store, name), `${hex}.tgz`);
}

/**
 * Keep the installed package for rollback, beside the others, then remove
 * the ones whose digest is not among `keep` (the digests of the most recent
 * revisions, the installed one first).
 */
export async function keepRevisionPackage(store: ClusterStore, name: string, digest: string, keep: readonly string[]): Promise<void> {
  const dir = await ensurePrivateDir(revisionPackagesDir(store, name));
  const file = revisionPackageFile(store, name, digest);
  if (!(await exists(file))) await copyFileAtomic(keptPackageFile(store, name), file);
  const wanted = new Set(keep.map((d) => basename(revisionPackageFile(store, name, d))));
  for (const f of await readdir(dir)) if (f.endsWith(".tgz") && !wanted.has(f)) await rm(join(dir, f), { force: true });
}

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
  const problems = parsed.success
    ? parsed.data.name === name
      ? []
      : [{ file, path: "name", message: `expected ${name}, the add-on this record is kept for`, severity: "error" as const }]
    : parsed.error.issues.map((i) => ({ file, path: i.path.join("."), message: i.message, severity: "error" as const }));
  if (!parsed.success || problems.length > 0) {
    throw new ValidationError(`install record ${file} is damaged`, problems, {
      where: file,
      hint: "inspect or remove the file; it is recreated by the next install",
    });
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
  const file = recordFile(store, record.name);
  const tmp = `${file}.${process.pid}.interrupt.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(InstallRecord.parse(record), null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
  }
}

/**
 * The package a run installs, copied (atomically) beside the kept one before
 * any step runs, and promoted to the kept copy only once the run knows it
 * describes what is on the cluster (a failed upgrade that Helm rolled back
 * keeps the previous one).
 */
export interface IncomingPackage {
  promote(): Promise<void>;
  /** For the interrupt path (the process exits right after); best effort. */
  promoteSync(): void;
  discard(): Promise<void>;
}

export async function stageKeptPackage(store: ClusterStore, name: string, tgz: string): Promise<IncomingPackage> {
  await prepareAddon(store, name);
  const kept = keptPackageFile(store, name);
  const incoming = `${kept}.incoming`;
  await copyFileAtomic(tgz, incoming);
  return {
    promote: () => rename(incoming, kept),
    promoteSync: () => {
      try {
        renameSync(incoming, kept);
      } catch {
        // best effort: the record says the run was interrupted
      }
    },
    discard: () => unlink(incoming).catch(() => undefined),
  };
}

/** Remove the record, the kept package and the earlier ones; run logs and backups stay. */
export async function removeRecord(store: ClusterStore, name: string): Promise<void> {
  await unlink(recordFile(store, name)).catch(() => undefined);
  await rm(keptPackageFile(store, name), { force: true });
  await rm(revisionPackagesDir(store, name), { recursive: true, force: true });
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

export async function listRecords(store: ClusterStore): Promise<InstallRecord[]> {
  let names: string[];
  try {
    names = await readdir(join(store.dir, "addons"));
  } catch {
    return [];
  }
  const records: InstallRecord[] = [];
  for (const name of names.sort()) {
    if (!isValidName("package", name)) {
      warn(`ignoring ${terminalLine(join(store.dir, "addons", name))}: not an add-on name`);
      continue;
    }
    const record = await readRecord(store, name);
    if (record !== undefined) records.push(record);
  }
  return records;
}
