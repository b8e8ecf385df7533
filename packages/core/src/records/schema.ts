/**
 * The install record Core keeps per cluster and add-on (DESIGN.md §5):
 * `<state>/core/clusters/<id>/addons/<name>/record.json`.
 *
 * It never holds values in clear: only `valuesFingerprint`, an HMAC-SHA256
 * (keyed with this installation's values key, lifecycle/values.ts) over the
 * package values files, the user's `-f` files and `--set` arguments.
 *
 * Every name in it (add-on, release, namespace, dependencies) follows the
 * rules of pkg-format's names: a record is read back and its names reach
 * file paths and tool argv, so a record that breaks them is damaged.
 */
import { isValidName, type NameKind, nameRuleText } from "@productive-k3s/pkg-format/names";
import semver from "semver";
import { z } from "zod";

const nameOf = (kind: NameKind, what: string) =>
  z.string().refine((n) => isValidName(kind, n), { error: `expected ${what}: ${nameRuleText(kind)}` });
const AddonName = nameOf("package", "an add-on name");
const Version = z.string().refine((v) => semver.valid(v) === v, { error: "expected a semantic version such as 1.2.3" });

/**
 * `hmac-sha256:<hex>`. Records written before the fingerprint was keyed hold
 * an unkeyed `sha256:<hex>`: it is dropped when read (the values are then
 * unknown, so the next install re-applies them) and so never written back.
 */
export const ValuesFingerprint = z
  .union([
    z.string().regex(/^hmac-sha256:[0-9a-f]{64}$/),
    z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/)
      .transform((): undefined => undefined),
  ])
  .optional();

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

export const Action = z.enum(["install", "upgrade", "rollback", "uninstall"]);
export type Action = z.infer<typeof Action>;

/**
 * Configuration answers (configure's, and the ones given): non-sensitive in
 * clear; `sensitiveAnswers` holds keyed HMACs (contract/answers.ts), never values.
 */
const AnswerMap = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected a variable name" }), z.string());
const SensitiveAnswerMap = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected a variable name" }),
  z.string().regex(/^hmac-sha256:[0-9a-f]{64}$/, { error: "expected hmac-sha256:<hex>" }),
);

/** Where a run's values came from, without the values: the -f files (absolute paths) and the --set keys. */
export const ValuesSources = z.object({ files: z.array(z.string()), setKeys: z.array(z.string()) });
export type ValuesSources = z.infer<typeof ValuesSources>;

/** What a revision was installed with (an install, upgrade or rollback run). */
const RevisionFields = {
  /** 1, 2, ...: one per install, upgrade or rollback run. */
  revision: z.number().int().positive().optional(),
  valuesFingerprint: ValuesFingerprint,
  values: ValuesSources.optional(),
  answers: AnswerMap.optional(),
  sensitiveAnswers: SensitiveAnswerMap.optional(),
};

export const HistoryEntry = z.object({
  runId: z.string(),
  action: Action,
  version: Version,
  digest: z.string(),
  status: z.enum(["deployed", "failed", "interrupted", "uninstalled"]),
  startedAt: z.string(),
  endedAt: z.string(),
  failedStep: z.string().optional(),
  runLog: z.string(),
  ...RevisionFields,
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const StackRef = z.object({
  name: nameOf("package", "a stack name"),
  lockDigest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, { error: "expected sha256:<64 lowercase hex digits>" })
    .optional(),
});
export type StackRef = z.infer<typeof StackRef>;

export const InstallRecord = z.object({
  schemaVersion: z.literal(1),
  name: AddonName,
  version: Version,
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** From the manifest, for `status` (free text: shown through terminalLine). */
  category: z.string().optional(),
  description: z.string().optional(),
  release: nameOf("package", "a Helm release name").optional(),
  namespace: nameOf("namespace", "a namespace"),
  /** Absent when unknown (a record from before keyed fingerprints): the values count as changed. */
  valuesFingerprint: ValuesFingerprint,
  /** The revision on the cluster (absent in records from before revisions). */
  revision: RevisionFields.revision,
  values: RevisionFields.values,
  answers: RevisionFields.answers,
  sensitiveAnswers: RevisionFields.sensitiveAnswers,
  /** The cluster's distribution when it was installed (PRODUCTIVE_K3S_DISTRO for later phases). */
  distro: z.string().optional(),
  status: RecordStatus,
  /** Action of the last run (install/upgrade/uninstall). */
  action: Action,
  /** Step the last run failed or was interrupted at. */
  failedStep: z.string().optional(),
  steps: z.array(StepRecord),
  runId: z.string(),
  runLog: z.string(),
  /** The add-on's dependencies, so uninstall can find dependents without extracting packages. */
  dependencies: z.array(z.object({ name: AddonName, version: z.string() })),
  /** Context used for the last run (the cluster itself is identified by its server URL). */
  context: z.string(),
  installedAt: z.string(),
  updatedAt: z.string(),
  /**
   * Set after a failed upgrade that Helm rolled back: the version that was tried.
   * `version`/`digest` (and the kept package) stay those of the release still on the cluster.
   */
  attempted: z.object({ version: Version, digest: z.string(), runId: z.string() }).optional(),
  /**
   * The stack whose install (`--stack`) put this version on the cluster, and the digest of the lock file it
   * installed from (`--stack-lock-digest`). Absent when the add-on was last installed or upgraded on its own.
   */
  stack: StackRef.optional(),
  history: z.array(HistoryEntry),
});
export type InstallRecord = z.infer<typeof InstallRecord>;

export const ClusterFile = z.object({ server: z.string(), context: z.string() });
export type ClusterFile = z.infer<typeof ClusterFile>;

/** `backups/<id>/backup.json` (and the same file in an `addon backup --output` folder). */
export const BackupMeta = z.object({
  schemaVersion: z.literal(1),
  id: z.string().regex(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/, { error: "expected a run id" }),
  name: AddonName,
  version: Version,
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** Why it was taken: `addon backup`, or before an upgrade, rollback or uninstall. */
  reason: z.enum(["manual", "upgrade", "rollback", "uninstall"]),
  createdAt: z.string(),
  cluster: ClusterFile,
  runLog: z.string(),
});
export type BackupMeta = z.infer<typeof BackupMeta>;
