/**
 * The document `addon install|upgrade` (and `dev addon install`) prints with
 * `--json`, and the human rendering reads (commands/render.ts).
 */
import type { ClusterInfo } from "../cluster/probe.js";
import type { DependencyResult } from "../lifecycle/dependencies.js";
import type { HostChanges, Impact } from "../lifecycle/impact.js";
import type { InstallRecord, StepRecord } from "../records/schema.js";
import type { BackupInfo } from "./backup.js";

export interface PlannedCommand {
  step: string;
  argv: string[];
}

export interface InstallResult {
  ok: true;
  dryRun: boolean;
  /** What was (or would be) done; `none` when the same version, digest, values and answers are already deployed. */
  action: "install" | "upgrade" | "rollback" | "none";
  name: string;
  version: string;
  digest: string;
  previousVersion?: string | undefined;
  cluster: { server: string; context: string; kubeconfig: string; id: string } | null;
  clusterInfo?: ClusterInfo | undefined;
  release?: string | undefined;
  namespace: string;
  dependencies: DependencyResult[];
  /**
   * The values fingerprint of this run's values (package values files, -f, --set), keyed like the records':
   * equal to the record's when the same values are applied. A dry run before any install (no key yet) gives one
   * that matches nothing.
   */
  valuesFingerprint?: string | undefined;
  /** `spec.impact`, as shown before anything ran. */
  impact?: Impact | undefined;
  /** Whether the run may change the machine Core runs on. */
  hostChanges?: HostChanges | undefined;
  /** Dry-run: the commands in order, run from the extracted package root. */
  commands?: PlannedCommand[] | undefined;
  /** Dry-run of a chart, when helm is available: `Kind/name` of every object `helm template` rendered, in order. */
  rendered?: string[] | undefined;
  /** Dry-run: the installed version would be backed up first. */
  backupFirst?: boolean | undefined;
  /** The revision this run made. */
  revision?: number | undefined;
  /** The configuration answers used (given and configure's), sensitive ones as ***. */
  configure?: Record<string, string> | undefined;
  /** The backup taken first (upgrade, rollback). */
  backup?: BackupInfo | undefined;
  status?: InstallRecord["status"] | undefined;
  steps?: StepRecord[] | undefined;
  runLog?: string | undefined;
  warnings: string[];
  /** With `--dependency-tgz` only: one entry per dependency package, in the order run. */
  dependencyPackages?: (PackageResult | SkippedPackage)[] | undefined;
}

/** A `--dependency-tgz` package's result: an InstallResult without the cluster (the top-level document has it). */
export type PackageResult = Omit<InstallResult, "cluster" | "clusterInfo" | "dependencyPackages">;

/** A dependency the cluster already satisfies: nothing was (or would be) run for it. */
export interface SkippedPackage {
  ok: true;
  dryRun: boolean;
  action: "skip";
  name: string;
  version: string;
  digest: string;
  /** The deployed version that satisfies every range below. */
  installedVersion: string;
  /** What the packages of this run require of it. */
  requiredBy: { by: string; range: string }[];
  reason: string;
}
