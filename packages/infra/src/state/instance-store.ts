/**
 * Runtime state of profile instances (DESIGN.md §5), through the state
 * backend (pkg-format/state-backend: local files by default, or PostgreSQL
 * shared by a team):
 *
 *   instance record   profile, version, digest, engine, status, NON-sensitive inputs, sensitive
 *                     input NAMES, plain outputs, saved plan, run summaries (InstanceRecord):
 *                     <stateDir>/infra/instances/<instance>/instance.json, or a PostgreSQL row
 *   package copy      the package used (status/outputs/destroy work without the original):
 *                     .../<instance>/package.tgz, or a PostgreSQL blob
 *   lock              held while a command runs: .../<instance>/lock, or a PostgreSQL advisory lock
 *
 * What stays on the machine that ran, in both backends:
 *
 *   <stateDir>/infra/instances/<instance>/
 *     outputs.sensitive.json   outputs marked sensitive (0600), masked everywhere else; never in a
 *                              shared database, so other operators see their names only
 *     engine/                  engine state: tofu TF_DATA_DIR (tf-data/), terraform.tfstate (local
 *                              backend only: with PostgreSQL, OpenTofu's pg backend keeps it in the
 *                              same database), plan.tfplan; ansible/script engines get it as
 *                              PK3S_ENGINE_STATE_DIR
 *     runs/<run-id>.ndjson     run record events
 *     runs/<run-id>.log        tool output (redacted)
 * Directories 0700, files 0600, every write atomic (a transaction in PostgreSQL).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import { assertValidName, isValidName } from "@productive-k3s/pkg-format/names";
import { ensurePrivateDir, stateDir } from "@productive-k3s/pkg-format/paths";
import {
  type BlobSlot,
  type LockOptions,
  type LockRef,
  type LockState,
  type StateBackend,
  type StateCollection,
  type StateLock,
  type StateRef,
  stateBackend,
} from "@productive-k3s/pkg-format/state-backend";
import { InstanceRecord } from "./instance-schema.js";

export type { Action, CurrentRun, InstanceStatus, RunSummary, SavedPlan } from "./instance-schema.js";
export { InstanceRecord } from "./instance-schema.js";

const MAX_RUNS_KEPT = 100;

/** The instance name as given (--instance, or the profile's name), or a usage error (exit 2): it becomes a directory name. */
export function checkedInstanceName(name: string): string {
  return assertValidName("instance", name, "instance name");
}

export function instancesRoot(): string {
  return join(stateDir(), "infra", "instances");
}

/** The instance's local directory (what stays on this machine), by name. */
export interface InstancePaths {
  instance: string;
  dir: string;
  sensitiveOutputs: string;
  engineDir: string;
  runsDir: string;
  inputsKey: string;
}

export function instancePaths(instance: string): InstancePaths {
  const name = checkedInstanceName(instance);
  const dir = join(instancesRoot(), name);
  return {
    instance: name,
    dir,
    sensitiveOutputs: join(dir, "outputs.sensitive.json"),
    engineDir: join(dir, "engine"),
    runsDir: join(dir, "runs"),
    inputsKey: join(dir, "engine", "inputs.key"),
  };
}

export async function ensureInstanceDirs(paths: InstancePaths): Promise<void> {
  await ensurePrivateDir(instancesRoot());
  await ensurePrivateDir(paths.dir);
  await ensurePrivateDir(paths.engineDir);
  await ensurePrivateDir(paths.runsDir);
}

const DAMAGED_HINT = "inspect or restore the file; `productive-k3s-infra profile destroy --instance <name> --purge` removes the instance";

/** Instance records, in every backend. */
export const INSTANCES: StateCollection<InstanceRecord> = {
  id: "infra.instances",
  label: "instance record",
  schema: InstanceRecord,
  damagedHint: DAMAGED_HINT,
  localFile: (ref) => join("infra", "instances", ref.name, "instance.json"),
  localNamesDir: () => join("infra", "instances"),
};

/** The package an instance runs. */
export const PACKAGE_COPY: BlobSlot = {
  id: "infra.instance-packages",
  localFile: (ref) => join("infra", "instances", ref.name, "package.tgz"),
};

const refOf = (paths: InstancePaths): StateRef => ({ scope: "", name: paths.instance });

export function instanceLockRef(paths: InstancePaths): LockRef {
  return { key: `infra/instances/${paths.instance}`, localFile: join(paths.dir, "lock") };
}

/** Where the record is, for messages: its file, or the database and its key. */
export async function instanceWhere(paths: InstancePaths): Promise<string> {
  return (await stateBackend()).describe(INSTANCES, refOf(paths));
}

/** The record, `undefined` when the instance does not exist; a damaged record is an error naming where it is and the fields (exit 4). */
export async function readInstance(paths: InstancePaths): Promise<InstanceRecord | undefined> {
  return (await stateBackend()).read(INSTANCES, refOf(paths));
}

function trimmed(record: InstanceRecord): InstanceRecord {
  record.updatedAt = new Date().toISOString();
  if (record.runs.length > MAX_RUNS_KEPT) record.runs = record.runs.slice(-MAX_RUNS_KEPT);
  return record;
}

/**
 * One transaction: the record (validated before it is written: Infra never stores a record it could not
 * read back) and, with `packageFrom`, the package copy the instance now runs.
 */
export async function writeInstance(paths: InstancePaths, record: InstanceRecord, options: { packageFrom?: string } = {}): Promise<void> {
  await (await stateBackend()).transaction(async (tx) => {
    await tx.write(INSTANCES, refOf(paths), trimmed(record));
    if (options.packageFrom !== undefined) await tx.putBlob(PACKAGE_COPY, refOf(paths), options.packageFrom);
  });
}

/** Interrupt path (synchronous, the process exits next); see StateBackend.writeOnExit. */
export function writeInstanceOnExit(backend: StateBackend, paths: InstancePaths, record: InstanceRecord): void {
  backend.writeOnExit(INSTANCES, refOf(paths), trimmed(record));
}

/** A local file with the package the instance runs, `undefined` when none is kept. */
export async function packageCopyFile(paths: InstancePaths): Promise<string | undefined> {
  return (await stateBackend()).blobFile(PACKAGE_COPY, refOf(paths));
}

export async function lockInstanceState(paths: InstancePaths, options: LockOptions): Promise<StateLock> {
  return (await stateBackend()).lock(instanceLockRef(paths), options);
}

export async function inspectInstanceLock(paths: InstancePaths): Promise<LockState> {
  return (await stateBackend()).inspectLock(instanceLockRef(paths));
}

export async function readSensitiveOutputs(paths: InstancePaths): Promise<Record<string, unknown>> {
  return (await readJsonFile<Record<string, unknown>>(paths.sensitiveOutputs)) ?? {};
}

export async function writeSensitiveOutputs(paths: InstancePaths, outputs: Record<string, unknown>): Promise<void> {
  if (Object.keys(outputs).length === 0) {
    await rm(paths.sensitiveOutputs, { force: true });
    return;
  }
  await writeJsonAtomic(paths.sensitiveOutputs, outputs, { mode: 0o600 });
}

export async function listInstanceNames(): Promise<string[]> {
  return (await (await stateBackend()).listNames(INSTANCES, "")).filter((n) => isValidName("instance", n));
}

/** Remove the record and the package copy (one transaction), then the local directory. */
export async function purgeInstance(paths: InstancePaths): Promise<void> {
  await (await stateBackend()).transaction(async (tx) => {
    await tx.remove(INSTANCES, refOf(paths));
    await tx.removeBlob(PACKAGE_COPY, refOf(paths));
  });
  await rm(paths.dir, { recursive: true, force: true });
}
