/**
 * Core's install records (DESIGN.md §5), through the state backend
 * (pkg-format/state-backend: local files by default, or PostgreSQL shared by
 * a team):
 *
 *   install record   one per cluster and add-on (InstallRecord):
 *                    <state>/core/clusters/<sha256(server)[0:16]>/addons/<addon>/record.json, or a row
 *   cluster entry    {server, context}: .../clusters/<id>/cluster.json, or a row
 *   kept package     the installed package (uninstall runs its hooks): .../addons/<addon>/package.tgz,
 *                    or a PostgreSQL blob (bytea with its digest)
 *   revision packages  the packages of the latest deployed revisions (rollback), PK3S_KEEP_PACKAGES of them:
 *                    .../addons/<addon>/packages/<sha256 hex>.tgz, or PostgreSQL blobs; kept and pruned in the
 *                    transaction that writes the record
 *   lock             one per cluster and add-on: .../clusters/<id>/locks/<addon>.lock, or a PostgreSQL
 *                    advisory lock held by the run's connection
 *
 * On the machine that ran, in both backends:
 *
 *   <state>/core/clusters/<id>/addons/<addon>/runs/<run>.log   one log per run
 *   <state>/core/clusters/<id>/addons/<addon>/backups/<run>/   backups (backup.json and what the backup
 *                                   phase wrote; possibly large), a retention limit
 *   <state>/core/values.key         the key of the values fingerprints (values-key.ts)
 *
 * Directories are 0700, files 0600, every write is atomic (a transaction in
 * PostgreSQL: a record and the package it describes are kept together). Every
 * add-on name is checked (pkg-format's names) before it becomes a path or a
 * key: a name from the command line, a record or a listing never leaves the
 * cluster's directory.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { copyFileAtomic } from "@productive-k3s/pkg-format/atomic";
import { warn } from "@productive-k3s/pkg-format/cli";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { assertValidName, isValidName } from "@productive-k3s/pkg-format/names";
import { ensurePrivateDir, stateDir } from "@productive-k3s/pkg-format/paths";
import {
  type BlobSlot,
  type LockRef,
  type StateBackend,
  type StateCollection,
  type StateRef,
  stateBackend,
} from "@productive-k3s/pkg-format/state-backend";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { KubeTarget } from "../cluster/kubeconfig.js";
import { ClusterFile, InstallRecord } from "./schema.js";

export interface ClusterStore {
  /** The cluster's local directory (run logs; with local state, the records too). */
  dir: string;
  target: Pick<KubeTarget, "server" | "context" | "clusterId">;
}

export function clusterStore(target: Pick<KubeTarget, "server" | "context" | "clusterId">): ClusterStore {
  return { dir: join(coreStateDir(), "clusters", target.clusterId), target };
}

/** Core's part of the state directory (cluster stores, the values key). */
export const coreStateDir = (): string => join(stateDir(), "core");

const checkedName = (name: string): string => assertValidName("package", name, "add-on name");
const clusterPath = (clusterId: string): string => join("core", "clusters", clusterId);

/** Install records: scope = the cluster id, name = the add-on. */
export const RECORDS: StateCollection<InstallRecord> = {
  id: "core.install-records",
  label: "install record",
  schema: InstallRecord,
  damagedHint: "inspect or remove it; it is recreated by the next install",
  localFile: (ref) => join(clusterPath(ref.scope), "addons", ref.name, "record.json"),
  localNamesDir: (scope) => join(clusterPath(scope), "addons"),
};

/** Which server a cluster id stands for: scope "", name = the cluster id. */
export const CLUSTERS: StateCollection<ClusterFile> = {
  id: "core.clusters",
  label: "cluster entry",
  schema: ClusterFile,
  damagedHint: "remove it; it is rewritten by the next install",
  localFile: (ref) => join(clusterPath(ref.name), "cluster.json"),
  localNamesDir: () => join("core", "clusters"),
};

/** The package an add-on was installed from. */
export const KEPT_PACKAGES: BlobSlot = {
  id: "core.kept-packages",
  localFile: (ref) => join(clusterPath(ref.scope), "addons", ref.name, "package.tgz"),
};

/** The packages of an add-on's revisions, by digest: scope = the cluster id, name = `<add-on>/<sha256 hex>`. */
export const REVISION_PACKAGES: BlobSlot = {
  id: "core.revision-packages",
  localFile: (ref) => {
    const [addon = "", hex = ""] = ref.name.split("/");
    return join(clusterPath(ref.scope), "addons", checkedName(addon), "packages", `${hex}.tgz`);
  },
};

function revisionRef(store: ClusterStore, name: string, digest: string): StateRef {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
  if (hex === undefined) throw new ValidationError(`not a package digest: ${terminalLine(digest)}`, []);
  return { scope: store.target.clusterId, name: `${checkedName(name)}/${hex}` };
}

const refOf = (store: ClusterStore, name: string): StateRef => ({ scope: store.target.clusterId, name: checkedName(name) });

export const addonDir = (store: ClusterStore, name: string): string => join(store.dir, "addons", checkedName(name));
export const runLogFile = (store: ClusterStore, name: string, runId: string): string => join(addonDir(store, name), "runs", `${runId}.log`);
/** Backups stay on the machine that took them, like run logs (see the README's "Backups"). */
export const backupsDir = (store: ClusterStore, name: string): string => join(addonDir(store, name), "backups");

export function addonLockRef(store: ClusterStore, name: string): LockRef {
  return {
    key: `core/clusters/${store.target.clusterId}/addons/${checkedName(name)}`,
    localFile: join(store.dir, "locks", `${checkedName(name)}.lock`),
  };
}

/** Record which server the cluster id stands for. */
export async function prepareCluster(store: ClusterStore): Promise<void> {
  const entry: ClusterFile = { server: store.target.server, context: store.target.context };
  await (await stateBackend()).transaction((tx) => tx.write(CLUSTERS, { scope: "", name: store.target.clusterId }, entry));
}

/** The local directory of the add-on's run logs. */
export async function prepareAddon(store: ClusterStore, name: string): Promise<void> {
  await ensurePrivateDir(join(addonDir(store, name), "runs"));
}

export async function readRecord(store: ClusterStore, name: string): Promise<InstallRecord | undefined> {
  const backend = await stateBackend();
  const ref = refOf(store, name);
  const record = await backend.read(RECORDS, ref);
  if (record === undefined || record.name === name) return record;
  const where = backend.describe(RECORDS, ref);
  throw new ValidationError(
    `install record ${where} is damaged`,
    [{ file: where, path: "name", message: `expected ${name}, the add-on this record is kept for`, severity: "error" }],
    { where, hint: RECORDS.damagedHint },
  );
}

/**
 * The package a run installs, copied beside the add-on's run logs before any step runs (the bytes that were
 * checked, whatever happens to the original file), and kept with the record only once the run knows the
 * record describes what is on the cluster (a failed upgrade that Helm rolled back keeps the previous one).
 */
export interface IncomingPackage {
  readonly file: string;
  discard(): Promise<void>;
}

export async function stageKeptPackage(store: ClusterStore, name: string, tgz: string): Promise<IncomingPackage> {
  await prepareAddon(store, name);
  const file = join(addonDir(store, name), "package.tgz.incoming");
  await copyFileAtomic(tgz, file);
  return { file, discard: () => rm(file, { force: true }) };
}

/** What a deployed run changes among the revision packages: the one it installed joins them, `drop` go. */
export interface RevisionPackages {
  digest: string;
  /** Digests whose packages are no longer kept (the retention limit). */
  drop: readonly string[];
}

/**
 * One transaction: the record and, with `keep`, the package it was installed from (the staged copy is moved);
 * with `revision` (and `keep`), that package is also kept among the revision packages and the ones past the
 * retention limit are removed.
 */
export async function writeRecord(
  store: ClusterStore,
  record: InstallRecord,
  options: { keep?: IncomingPackage; revision?: RevisionPackages } = {},
): Promise<void> {
  const ref = refOf(store, record.name);
  const { keep, revision } = options;
  await (await stateBackend()).transaction(async (tx) => {
    await tx.write(RECORDS, ref, record);
    if (keep !== undefined && revision !== undefined) {
      await tx.putBlob(REVISION_PACKAGES, revisionRef(store, record.name, revision.digest), keep.file);
    }
    if (keep !== undefined) await tx.putBlob(KEPT_PACKAGES, ref, keep.file, { move: true });
    for (const digest of revision?.drop ?? []) await tx.removeBlob(REVISION_PACKAGES, revisionRef(store, record.name, digest));
  });
}

/** Interrupt path (synchronous, the process exits next); see StateBackend.writeOnExit. */
export function writeRecordOnExit(backend: StateBackend, store: ClusterStore, record: InstallRecord, keep?: IncomingPackage): void {
  backend.writeOnExit(
    RECORDS,
    refOf(store, record.name),
    record,
    keep === undefined ? undefined : { slot: KEPT_PACKAGES, file: keep.file },
  );
}

/** A local file with the package the add-on was installed from, `undefined` when none was kept. */
export async function keptPackage(store: ClusterStore, name: string): Promise<string | undefined> {
  return (await stateBackend()).blobFile(KEPT_PACKAGES, refOf(store, name));
}

/** A local file with the package of the add-on's revision with that digest, `undefined` when it is not kept. */
export async function revisionPackage(store: ClusterStore, name: string, digest: string): Promise<string | undefined> {
  return (await stateBackend()).blobFile(REVISION_PACKAGES, revisionRef(store, name, digest));
}

/** The digests among the record's revisions whose packages may be kept (the installed one included). */
const revisionDigests = (record: InstallRecord): string[] => [
  ...new Set([record.digest, ...record.history.filter((h) => h.action !== "uninstall").map((h) => h.digest)]),
];

/** A deployed run's change to the revision packages: keep the installed one and `keep`, drop the others. */
export function revisionPackagesAfter(record: InstallRecord, keep: readonly string[]): RevisionPackages {
  return { digest: record.digest, drop: revisionDigests(record).filter((d) => d !== record.digest && !keep.includes(d)) };
}

/** Remove the record, the kept package and the revision packages (one transaction); run logs and backups stay. */
export async function removeRecord(store: ClusterStore, name: string): Promise<void> {
  const record = await readRecord(store, name);
  const ref = refOf(store, name);
  await (await stateBackend()).transaction(async (tx) => {
    await tx.remove(RECORDS, ref);
    await tx.removeBlob(KEPT_PACKAGES, ref);
    for (const digest of record === undefined ? [] : revisionDigests(record)) {
      await tx.removeBlob(REVISION_PACKAGES, revisionRef(store, name, digest));
    }
  });
}

export async function listRecords(store: ClusterStore): Promise<InstallRecord[]> {
  const backend = await stateBackend();
  const records: InstallRecord[] = [];
  for (const name of await backend.listNames(RECORDS, store.target.clusterId)) {
    if (!isValidName("package", name)) {
      warn(`ignoring ${terminalLine(join(store.dir, "addons", name))}: not an add-on name`);
      continue;
    }
    const record = await readRecord(store, name);
    if (record !== undefined) records.push(record);
  }
  return records;
}
