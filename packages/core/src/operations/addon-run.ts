/**
 * The lifecycle every state-changing add-on command shares (install,
 * upgrade, uninstall), as Infra's withInstanceRun is for profiles:
 *
 *  - `withAddonLock`: one lock per cluster and add-on (a second run exits 7
 *    naming the holder), released however the command ends — a lock file,
 *    or a PostgreSQL advisory lock that the server frees if the run dies.
 *  - `runAddonSteps`: a run id, the run log with its headline, the record the
 *    run leaves for each way it can end (with its history entry and, for an
 *    install, upgrade or rollback, its revision), the prelude (configure)
 *    run first — it changes nothing, so its failure or a Ctrl-C during it
 *    leaves the record as it was — then the planned steps executed, and
 *    Ctrl-C between steps handled: the record is
 *    written `interrupted` synchronously (local state; PostgreSQL cannot be
 *    written synchronously, so there the record stays as the run found it
 *    and the run log says where it stopped), the lock and the extraction
 *    removed, and the process exits 130.
 *
 * What a finished run means for the record (keep it, roll it back, remove
 * it) stays with the operation.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { onInterrupt } from "@productive-k3s/pkg-format/interrupts";
import { type StateLock, stateBackend } from "@productive-k3s/pkg-format/state-backend";
import type { Timeout } from "../duration.js";
import { type ExecuteOutcome, executeSteps } from "../lifecycle/execute.js";
import type { HelmTarget, PlannedStep, StepName } from "../lifecycle/plan.js";
import type { Action, HistoryEntry, InstallRecord, StepRecord } from "../records/schema.js";
import {
  addonLockRef,
  type ClusterStore,
  type IncomingPackage,
  prepareAddon,
  prepareCluster,
  runLogFile,
  writeRecord,
  writeRecordOnExit,
} from "../records/store.js";

/** Run ids sort by time: 20261121T130501Z-1a2b3c. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/** Run `body` holding the add-on's lock on this cluster (the cluster's directories are created first). */
export async function withAddonLock<T>(
  store: ClusterStore,
  name: string,
  options: { command: string; breakLock: boolean },
  body: (lock: StateLock) => Promise<T>,
): Promise<T> {
  const backend = await stateBackend();
  const lock = await backend.lock(addonLockRef(store, name), options);
  try {
    await prepareCluster(store);
    return await body(lock);
  } finally {
    await lock.release();
  }
}

/** The fields a run sets on the record; the rest is the operation's. */
type RunFields = "status" | "action" | "failedStep" | "steps" | "runId" | "runLog" | "context" | "updatedAt";
export type RecordBase = Omit<InstallRecord, RunFields>;

export interface AddonRunSpec {
  store: ClusterStore;
  lock: StateLock;
  action: Action;
  /** The record apart from the run's fields; `version`/`digest` are the ones the run is about, `history` the one before it. */
  base: RecordBase;
  /** The kubeconfig context of this run. */
  context: string;
  /** `Installing longhorn 1.0.0 on cluster …`: printed and logged with the run id added. */
  headline: string;
  /** Said in the log's header before the start time, e.g. `package sha256:…`. */
  logNote?: string | undefined;
  /** Record fields known only once the prelude ran (configure's answers). */
  late?: (() => Partial<RecordBase>) | undefined;
  /** Written before the first step (without a history entry), e.g. `uninstalling`. */
  startStatus?: "uninstalling" | undefined;
  steps: PlannedStep[];
  /** Working directory of every step (the extracted package root). */
  cwd: string;
  env: (step: StepName, runId: string) => Record<string, string | undefined>;
  timeout: Timeout;
  helm: HelmTarget | undefined;
  /** Keep going after a failed step (uninstall --force). */
  continueOnError?: boolean | undefined;
  /** Removed on Ctrl-C (the operation removes it on every other way out). */
  tempDir?: string | undefined;
  /** The package this run installs, kept with the record a Ctrl-C leaves once the run changes things. */
  incoming?: IncomingPackage | undefined;
  /** After the prelude steps (configure) succeeded, before anything changes: throwing stops the run, the record left as it was. */
  afterPrelude?: (() => Promise<void>) | undefined;
  /** The error a failed prelude step stops the run with (default: the step's own). */
  preludeError?: ((failed: NonNullable<ExecuteOutcome["failed"]>, steps: StepRecord[]) => Error | undefined) | undefined;
}

export interface AddonRunOutcome {
  runId: string;
  logFile: string;
  steps: StepRecord[];
  /** The first step that failed, timed out or was interrupted. */
  failed: ExecuteOutcome["failed"];
  status: "deployed" | "failed" | "interrupted";
  /** The record as this run leaves it with that status. */
  recordFor(status: InstallRecord["status"], steps: StepRecord[], failedStep?: string): InstallRecord;
}

export async function runAddonSteps(spec: AddonRunSpec): Promise<AddonRunOutcome> {
  const { store, base } = spec;
  const backend = await stateBackend();
  const runId = newRunId();
  await prepareAddon(store, base.name);
  const logFile = runLogFile(store, base.name, runId);
  const startedAt = new Date().toISOString();
  // Install, upgrade and rollback runs make a revision; an uninstall run is about the current one.
  const revision =
    spec.action === "uninstall" ? base.revision : Math.max(0, base.revision ?? 0, ...base.history.map((h) => h.revision ?? 0)) + 1;
  const recordFor = (status: InstallRecord["status"], steps: StepRecord[], failedStep?: string): InstallRecord => {
    const endedAt = new Date().toISOString();
    const late = { ...base, ...spec.late?.() };
    const entry: HistoryEntry = {
      runId,
      action: spec.action,
      version: late.version,
      digest: late.digest,
      status: status === "uninstalling" ? "failed" : status,
      startedAt,
      endedAt,
      ...(failedStep === undefined ? {} : { failedStep }),
      runLog: logFile,
      ...(spec.action === "uninstall"
        ? {}
        : {
            revision,
            valuesFingerprint: late.valuesFingerprint,
            values: late.values,
            answers: late.answers,
            sensitiveAnswers: late.sensitiveAnswers,
          }),
    };
    return {
      ...late,
      revision,
      status,
      action: spec.action,
      failedStep,
      steps,
      runId,
      runLog: logFile,
      context: spec.context,
      updatedAt: endedAt,
      history: [...base.history, entry].slice(-50),
    };
  };
  const headline = `${spec.headline} (run ${runId})`;
  process.stderr.write(`${headline}\n`);
  await appendFile(logFile, `# ${headline}\n# ${spec.logNote === undefined ? "" : `${spec.logNote}, `}started ${startedAt}\n`, {
    mode: 0o600,
  });

  const prelude = spec.steps.filter((s) => s.prelude === true);
  const main = spec.steps.filter((s) => s.prelude !== true);
  const done: StepRecord[] = [];
  // Set once the prelude is over: from then on the run changes things, and a Ctrl-C is recorded.
  let changing = false;
  // Ctrl-C between steps (no child running): record and release synchronously, the process exits 130 next.
  const off = onInterrupt(() => {
    // During the prelude nothing has changed: the record stays as the run found it.
    if (changing)
      writeRecordOnExit(backend, store, recordFor("interrupted", done, main[done.length - prelude.length]?.name), spec.incoming);
    else if (spec.incoming !== undefined) rmSync(spec.incoming.file, { force: true });
    spec.lock.releaseOnExit();
    if (spec.tempDir !== undefined) rmSync(spec.tempDir, { recursive: true, force: true });
  });
  const execute = (steps: PlannedStep[]) =>
    executeSteps(steps, {
      cwd: spec.cwd,
      env: (step) => spec.env(step, runId),
      timeoutMs: spec.timeout.ms,
      timeoutText: spec.timeout.text,
      logFile,
      helm: spec.helm,
      continueOnError: spec.continueOnError === true,
      onStep: (r) => done.push(r),
    });
  let outcome: ExecuteOutcome;
  let before: StepRecord[] = [];
  try {
    if (prelude.length > 0) {
      // Nothing has changed yet: a failure stops the run and leaves the record as it was.
      const pre = await execute(prelude);
      if (pre.failed !== undefined) throw spec.preludeError?.(pre.failed, pre.steps) ?? pre.failed.error;
      before = pre.steps;
      await spec.afterPrelude?.();
    }
    changing = true;
    if (spec.startStatus !== undefined) await writeRecord(store, { ...recordFor(spec.startStatus, []), history: base.history });
    outcome = await execute(main);
  } finally {
    off();
  }
  outcome = { ...outcome, steps: [...before, ...outcome.steps] };
  const failed = outcome.failed;
  const status = failed === undefined ? "deployed" : failed.interrupted ? "interrupted" : "failed";
  return { runId, logFile, steps: outcome.steps, failed, status, recordFor };
}
