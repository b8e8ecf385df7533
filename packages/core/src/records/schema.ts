/**
 * The install record Core keeps per cluster and add-on (DESIGN.md §5):
 * `<state>/core/clusters/<id>/addons/<name>/record.json`.
 *
 * It never holds values in clear: only `valuesFingerprint`, a sha256 over the
 * package values files, the user's `-f` files and `--set` arguments.
 */
import { z } from "zod";

export const RecordStatus = z.enum(["deployed", "failed", "interrupted", "uninstalling"]);
export type RecordStatus = z.infer<typeof RecordStatus>;

export const StepStatus = z.enum(["ok", "failed", "interrupted", "timed-out", "skipped"]);
export type StepStatus = z.infer<typeof StepStatus>;

export const StepRecord = z.object({
  name: z.string(),
  status: StepStatus,
  startedAt: z.string(),
  endedAt: z.string(),
  exitCode: z.number().int().optional(),
  error: z.string().optional(),
});
export type StepRecord = z.infer<typeof StepRecord>;

export const Action = z.enum(["install", "upgrade", "uninstall"]);
export type Action = z.infer<typeof Action>;

export const HistoryEntry = z.object({
  runId: z.string(),
  action: Action,
  version: z.string(),
  digest: z.string(),
  status: z.enum(["deployed", "failed", "interrupted", "uninstalled"]),
  startedAt: z.string(),
  endedAt: z.string(),
  failedStep: z.string().optional(),
  runLog: z.string(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const InstallRecord = z.object({
  schemaVersion: z.literal(1),
  name: z.string(),
  version: z.string(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  release: z.string().optional(),
  namespace: z.string(),
  valuesFingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  status: RecordStatus,
  /** Action of the last run (install/upgrade/uninstall). */
  action: Action,
  /** Step the last run failed or was interrupted at. */
  failedStep: z.string().optional(),
  steps: z.array(StepRecord),
  runId: z.string(),
  runLog: z.string(),
  /** The add-on's dependencies, so uninstall can find dependents without extracting packages. */
  dependencies: z.array(z.object({ name: z.string(), version: z.string() })),
  /** Context used for the last run (the cluster itself is identified by its server URL). */
  context: z.string(),
  installedAt: z.string(),
  updatedAt: z.string(),
  /**
   * Set after a failed upgrade that Helm rolled back: the version that was tried.
   * `version`/`digest` (and the kept package) stay those of the release still on the cluster.
   */
  attempted: z.object({ version: z.string(), digest: z.string(), runId: z.string() }).optional(),
  history: z.array(HistoryEntry),
});
export type InstallRecord = z.infer<typeof InstallRecord>;

export const ClusterFile = z.object({ server: z.string(), context: z.string() });
export type ClusterFile = z.infer<typeof ClusterFile>;
