/**
 * The JSON documents the CLIs read from each other (DESIGN.md §1: the
 * runtimes talk only through processes, exit codes and `--json`). One schema
 * per document, shared by the side that writes it (its result type is this
 * schema's type; a test runs the real binary and parses its output with it)
 * and the side that reads it (parses with it, never with ad-hoc casts):
 *
 * - `productive-k3s-core addon list --json`    → CoreAddonList   (read by Infra's `profile status`/`destroy`, pk3s)
 * - `productive-k3s-infra profile status --json`  → InfraProfileStatus (read by pk3s)
 * - `productive-k3s-infra profile outputs --json` → InfraProfileOutputs (read by pk3s: the `kubeconfig` output)
 *
 * Readers accept fields they do not know (a newer writer may add some): the
 * schemas are not strict. Every success document carries `ok: true`.
 */
import { z } from "zod";

// --- productive-k3s-core addon list --json -------------------------------------------------------

export const CoreAddonStepRecord = z.object({
  name: z.string(),
  status: z.enum(["ok", "failed", "interrupted", "timed-out", "skipped"]),
  startedAt: z.string(),
  endedAt: z.string(),
  exitCode: z.number().int().optional(),
  error: z.string().optional(),
});

/** One add-on Core has a record of on the cluster (its install record, and Helm's view when it could ask). */
export const CoreAddonEntry = z.object({
  name: z.string(),
  version: z.string(),
  /** `deployed` is installed; `failed`/`interrupted`/`uninstalling`: the last run did not finish well. */
  status: z.enum(["deployed", "failed", "interrupted", "uninstalling"]),
  digest: z.string(),
  release: z.string().optional(),
  namespace: z.string(),
  failedStep: z.string().optional(),
  /** Action of the last run. */
  action: z.enum(["install", "upgrade", "rollback", "uninstall"]),
  /** After a failed upgrade that Helm rolled back: the version that was tried. */
  attempted: z.object({ version: z.string(), digest: z.string(), runId: z.string() }).optional(),
  installedAt: z.string(),
  updatedAt: z.string(),
  runLog: z.string(),
  steps: z.array(CoreAddonStepRecord),
  dependencies: z.array(z.object({ name: z.string(), version: z.string() })),
  /** Keyed (per Core installation) fingerprint of the values the deployed version was installed with. */
  valuesFingerprint: z.string().optional(),
  /** The stack (and the digest of its lock file) whose install put this version there; absent: installed on its own. */
  stack: z.object({ name: z.string(), lockDigest: z.string().optional() }).optional(),
  helm: z
    .object({
      status: z.string().optional(),
      revision: z.number().optional(),
      lastDeployed: z.string().optional(),
      /** Why helm could not be asked. */
      error: z.string().optional(),
    })
    .optional(),
});

export const ClusterIdentity = z.object({
  /** The API server URL: the cluster's identity for Core's records. */
  server: z.string(),
  context: z.string(),
});

export const CoreAddonList = z.object({
  ok: z.literal(true),
  cluster: ClusterIdentity,
  addons: z.array(CoreAddonEntry),
});

export type CoreAddonEntry = z.infer<typeof CoreAddonEntry>;
export type CoreAddonList = z.infer<typeof CoreAddonList>;

// --- productive-k3s-infra profile status --json / profile outputs --json -------------------------

export const InfraInstanceStatus = z.enum(["planned", "running", "installed", "failed", "interrupted", "destroyed"]);

const PlanChanges = z.object({ add: z.number(), change: z.number(), destroy: z.number() });

export const InfraRunSummary = z.object({
  id: z.string(),
  action: z.enum(["plan", "install", "destroy"]),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  status: z.enum(["running", "succeeded", "failed", "interrupted"]),
  exitCode: z.number().int().optional(),
  record: z.string(),
  log: z.string(),
  /** The machine that ran it (runs shared through a PostgreSQL state backend come from several). */
  host: z.string().optional(),
});

/** The add-ons Core reports on the instance's cluster (from its `addon list --json`), as `profile status` shows them. */
export const InfraClusterAddons = z.object({
  cluster: ClusterIdentity,
  items: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      status: CoreAddonEntry.shape.status,
      namespace: z.string(),
      release: z.string().optional(),
      dependencies: z.array(z.string()),
    }),
  ),
});

export const InfraProfileStatus = z.object({
  ok: z.literal(true),
  instance: z.string(),
  profile: z.string(),
  version: z.string(),
  digest: z.string(),
  engine: z.string(),
  scenario: z.string(),
  status: InfraInstanceStatus,
  /** The run that did not finish (status `interrupted`). */
  interruptedRun: z.string().optional(),
  /** The run in progress (status `running`). */
  currentRun: z
    .object({ runId: z.string(), action: InfraRunSummary.shape.action, pid: z.number(), host: z.string(), startedAt: z.string() })
    .optional(),
  /** Non-sensitive inputs the instance was installed with. */
  inputs: z.record(z.string(), z.string()),
  /** Names only: their values are never stored. */
  sensitiveInputs: z.array(z.string()),
  /** Outputs, sensitive ones as "***". */
  outputs: z.record(z.string(), z.unknown()),
  sensitiveOutputs: z.array(z.string()),
  plan: z.object({ runId: z.string(), createdAt: z.string(), changes: PlanChanges.optional() }).optional(),
  /** OpenTofu: resources in the state. */
  resources: z.number().optional(),
  lastRun: InfraRunSummary.optional(),
  runs: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  installedAt: z.string().optional(),
  destroyedAt: z.string().optional(),
  stateDir: z.string(),
  /** The profile's statusScript, when it has one and the instance is installed. */
  check: z.object({ script: z.string(), exitCode: z.number().nullable(), output: z.string() }).optional(),
  /** The add-ons installed through productive-k3s-core on the cluster of the instance's `kubeconfig` output. */
  addons: InfraClusterAddons.optional(),
  /** Why `addons` is absent although the instance has a kubeconfig output (Core not found, Core failed). */
  addonsNote: z.string().optional(),
});

export const InfraProfileOutputs = z.object({
  ok: z.literal(true),
  instance: z.string(),
  /** Outputs by name, sensitive ones as "***" unless `--show-sensitive`. */
  outputs: z.record(z.string(), z.unknown()),
});

export type InfraClusterAddons = z.infer<typeof InfraClusterAddons>;
export type InfraProfileStatus = z.infer<typeof InfraProfileStatus>;
export type InfraProfileOutputs = z.infer<typeof InfraProfileOutputs>;
