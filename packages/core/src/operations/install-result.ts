/**
 * The document `addon install|upgrade` (and `dev addon install`) prints with
 * `--json`, and the human rendering reads (commands/render.ts).
 */
import type { ClusterInfo } from "../cluster/probe.js";
import type { DependencyResult } from "../lifecycle/dependencies.js";
import type { InstallRecord, StepRecord } from "../records/schema.js";

export interface PlannedCommand {
  step: string;
  argv: string[];
}

export interface InstallResult {
  ok: true;
  dryRun: boolean;
  /** What was (or would be) done; `none` when the same version and digest is already deployed. */
  action: "install" | "upgrade" | "none";
  name: string;
  version: string;
  digest: string;
  previousVersion?: string | undefined;
  cluster: { server: string; context: string; kubeconfig: string; id: string } | null;
  clusterInfo?: ClusterInfo | undefined;
  release?: string | undefined;
  namespace: string;
  dependencies: DependencyResult[];
  /** Dry-run: the commands in order, run from the extracted package root. */
  commands?: PlannedCommand[] | undefined;
  /** Dry-run of a chart, when helm is available: `Kind/name` of every object `helm template` rendered, in order. */
  rendered?: string[] | undefined;
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
