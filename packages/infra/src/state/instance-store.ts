/**
 * Runtime state of profile instances (DESIGN.md §5):
 *
 *   <stateDir>/infra/instances/<instance>/
 *     instance.json            profile, version, digest, engine, status, NON-sensitive inputs,
 *                              sensitive input NAMES, plain outputs, saved plan, runs
 *     package.tgz              copy of the package used (status/outputs/destroy work without the original)
 *     outputs.sensitive.json   outputs marked sensitive (0600), masked everywhere else
 *     engine/                  engine state: tofu TF_DATA_DIR (tf-data/), terraform.tfstate, plan.tfplan;
 *                              ansible/script engines get it as PK3S_ENGINE_STATE_DIR
 *     runs/<run-id>.ndjson     run record events
 *     runs/<run-id>.log        tool output (redacted)
 *     lock                     held while a command runs
 * Directories 0700, files 0600, every write atomic.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { assertValidName, isValidName } from "@productive-k3s/pkg-format/names";
import { ensurePrivateDir, stateDir } from "@productive-k3s/pkg-format/paths";
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

export interface InstancePaths {
  dir: string;
  record: string;
  packageCopy: string;
  sensitiveOutputs: string;
  engineDir: string;
  runsDir: string;
  lock: string;
  inputsKey: string;
}

export function instancePaths(instance: string): InstancePaths {
  const dir = join(instancesRoot(), checkedInstanceName(instance));
  return {
    dir,
    record: join(dir, "instance.json"),
    packageCopy: join(dir, "package.tgz"),
    sensitiveOutputs: join(dir, "outputs.sensitive.json"),
    engineDir: join(dir, "engine"),
    runsDir: join(dir, "runs"),
    lock: join(dir, "lock"),
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

/** The record, `undefined` when the instance does not exist; a damaged record is an error naming the file and fields (exit 4). */
export async function readInstance(paths: InstancePaths): Promise<InstanceRecord | undefined> {
  let raw: unknown;
  try {
    raw = await readJsonFile(paths.record);
  } catch (err) {
    throw new ValidationError(
      `instance record ${paths.record} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      [],
      {
        where: paths.record,
        hint: DAMAGED_HINT,
      },
    );
  }
  if (raw === undefined) return undefined;
  const parsed = InstanceRecord.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(
      `instance record ${paths.record} is damaged`,
      parsed.error.issues.map((i) => ({ file: paths.record, path: fieldPath(i.path), message: i.message, severity: "error" as const })),
      { where: paths.record, hint: DAMAGED_HINT },
    );
  }
  return parsed.data;
}

/** `runs[0].status` */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

/** Validated before it is written: Infra never stores a record it could not read back. */
export async function writeInstance(paths: InstancePaths, record: InstanceRecord): Promise<void> {
  record.updatedAt = new Date().toISOString();
  if (record.runs.length > MAX_RUNS_KEPT) record.runs = record.runs.slice(-MAX_RUNS_KEPT);
  await writeJsonAtomic(paths.record, InstanceRecord.parse(record));
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
  try {
    const entries = await readdir(instancesRoot(), { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && isValidName("instance", e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

export async function purgeInstance(paths: InstancePaths): Promise<void> {
  await rm(paths.dir, { recursive: true, force: true });
}
