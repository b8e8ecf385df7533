/**
 * instance.json, the record Infra keeps per instance (DESIGN.md §5), as a zod
 * schema: the single source of its type, checked when it is read (a damaged
 * record is an error naming the file and the field) and when it is written.
 *
 * It never holds a sensitive value: `inputs` are the non-sensitive ones,
 * `sensitiveInputs` and `sensitiveOutputs` are names only.
 */
import { z } from "zod";

export const InstanceStatus = z.enum(["planned", "running", "installed", "failed", "interrupted", "destroyed"]);
export type InstanceStatus = z.infer<typeof InstanceStatus>;

export const Action = z.enum(["plan", "install", "destroy"]);
export type Action = z.infer<typeof Action>;

const timestamp = z.string().min(1);

export const RunSummary = z.object({
  id: z.string().min(1),
  action: Action,
  startedAt: timestamp,
  endedAt: timestamp.optional(),
  exitCode: z.number().int().optional(),
  status: z.enum(["running", "succeeded", "failed", "interrupted"]),
  /** The run record (NDJSON) and the run log: files on the machine that ran. */
  record: z.string(),
  log: z.string(),
  /** That machine (runs shared through PostgreSQL come from several). */
  host: z.string().optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;

const PlanChanges = z.object({ add: z.number().int(), change: z.number().int(), destroy: z.number().int() });

/** A plan kept by `profile plan` for `profile install` (saved-plan.ts). */
export const SavedPlan = z.object({
  runId: z.string().min(1),
  file: z.string().min(1),
  digest: z.string(),
  /** HMAC of every input value, keyed per instance: never a value. */
  inputsHash: z.string(),
  createdAt: timestamp,
  changes: PlanChanges.optional(),
});
export type SavedPlan = z.infer<typeof SavedPlan>;

/** The run holding the instance while it runs. */
export const CurrentRun = z.object({
  runId: z.string().min(1),
  action: Action,
  pid: z.number().int(),
  host: z.string(),
  startedAt: timestamp,
});
export type CurrentRun = z.infer<typeof CurrentRun>;

export const InstanceRecord = z.object({
  schemaVersion: z.literal(1),
  instance: z.string().min(1),
  profile: z.object({ name: z.string().min(1), version: z.string().min(1), category: z.string() }),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  engine: z.string().min(1),
  scenario: z.string(),
  status: InstanceStatus,
  /** Non-sensitive input values (the merged env minus sensitive and undeclared keys). */
  inputs: z.record(z.string(), z.string()),
  /** Names only: their values are never stored. */
  sensitiveInputs: z.array(z.string()),
  outputs: z.record(z.string(), z.unknown()),
  sensitiveOutputs: z.array(z.string()),
  plan: SavedPlan.optional(),
  current: CurrentRun.optional(),
  runs: z.array(RunSummary),
  createdAt: timestamp,
  updatedAt: timestamp,
  installedAt: timestamp.optional(),
  destroyedAt: timestamp.optional(),
});
export type InstanceRecord = z.infer<typeof InstanceRecord>;
