/**
 * The lifecycle every state-changing command (plan, install, destroy) shares:
 * lock the instance, recover from an interrupted previous run, mark the
 * instance `running` (with run id, pid and host) while the engine works, keep
 * the run record, and always leave a final status behind.
 *
 * Interrupted runs: a run killed even with `kill -9` leaves status `running`
 * and a lock whose holder pid is dead. `status` reports that as
 * `interrupted`. `install` recovers automatically: it takes over the lock
 * ONLY when the holder's pid is dead on this host (a live holder, or one on
 * another host, is never taken over: exit 7), marks the old run interrupted
 * and proceeds. plan/destroy need `--break-lock` for that.
 */
import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { chmod, copyFile, rename } from "node:fs/promises";
import { hostname } from "node:os";
import { warn } from "@productive-k3s/pkg-format/cli";
import { isPk3sError, LockedError, UsageError } from "@productive-k3s/pkg-format/errors";
import { acquireLock, inspectLock, type Lock } from "@productive-k3s/pkg-format/lock";
import { onInterrupt } from "@productive-k3s/pkg-format/process";
import type { EngineRun } from "../engines/engine-run.js";
import type { OpenedProfile } from "../profile/opened-profile.js";
import type { ResolvedInputs } from "../profile/resolved-inputs.js";
import { redactError } from "../secrets.js";
import {
  type Action,
  ensureInstanceDirs,
  InstanceRecord,
  type InstanceStatus,
  instancePaths,
  type RunSummary,
  readInstance,
  readSensitiveOutputs,
  writeInstance,
} from "../state/instance-store.js";
import { appendToRecord, RunRecorder } from "../state/run-record.js";
import { ApprovalDeclinedError } from "./confirm.js";
import { storableInputs } from "./resolve-inputs.js";

export interface RunSetup {
  instance: string;
  action: Action;
  profile: OpenedProfile;
  resolved: ResolvedInputs;
  breakLock?: boolean;
  /** install: take over a stale lock (dead pid on this host) left by an interrupted run. */
  autoRecover?: boolean;
  echo?: boolean;
}

export interface RunContext {
  run: EngineRun;
  record: InstanceRecord;
  /** Status before this run started (`interrupted` when it recovered from one). */
  previousStatus: InstanceStatus;
  /** Set when this run recovered from an interrupted one. */
  recoveredFrom?: string;
}

async function lockInstance(file: string, setup: RunSetup): Promise<{ lock: Lock; brokeStale: boolean }> {
  const command = `profile ${setup.action}`;
  try {
    return { lock: await acquireLock(file, { command, breakLock: setup.breakLock === true }), brokeStale: setup.breakLock === true };
  } catch (err) {
    if (!(err instanceof LockedError) || setup.autoRecover !== true) throw err;
    const state = await inspectLock(file);
    if (state.state !== "stale") throw err;
    warn(`the previous run (pid ${state.holder.pid}, started ${state.holder.startedAt}) is no longer alive; taking over its lock`);
    return { lock: await acquireLock(file, { command, breakLock: true }), brokeStale: true };
  }
}

function newRecord(setup: RunSetup): InstanceRecord {
  const m = setup.profile.manifest;
  const now = new Date().toISOString();
  return {
    schemaVersion: 1,
    instance: setup.instance,
    profile: { name: m.metadata.name, version: m.metadata.version, category: m.metadata.category },
    digest: setup.profile.digest,
    engine: m.spec.engine.type,
    scenario: m.spec.scenario.type,
    status: "planned",
    inputs: {},
    sensitiveInputs: [],
    outputs: {},
    sensitiveOutputs: [],
    runs: [],
    createdAt: now,
    updatedAt: now,
  };
}

/** Mark the run that left the instance `running` as interrupted (its record file and summary). */
async function markInterrupted(record: InstanceRecord): Promise<string | undefined> {
  const current = record.current;
  const summary = record.runs.find((r) => r.id === current?.runId) ?? record.runs.findLast((r) => r.status === "running");
  if (summary === undefined) return current?.runId;
  summary.status = "interrupted";
  summary.endedAt = new Date().toISOString();
  summary.exitCode = 130;
  await appendToRecord(summary.record, {
    event: "command.completed",
    ts: summary.endedAt,
    runId: summary.id,
    correlationId: summary.id,
    action: summary.action,
    status: "interrupted",
    exitCode: 130,
    note: "detected by a later run: the process ended without completing (killed or crashed)",
  }).catch(() => undefined);
  return summary.id;
}

function writeRecordSync(path: string, record: InstanceRecord): void {
  const tmp = `${path}.${process.pid}.interrupt.tmp`;
  writeFileSync(tmp, `${JSON.stringify(InstanceRecord.parse(record), null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export async function withInstanceRun<T>(
  setup: RunSetup,
  body: (ctx: RunContext) => Promise<{ status: InstanceStatus; result: T }>,
): Promise<T & { runId: string; status: InstanceStatus; recoveredFrom?: string }> {
  const paths = instancePaths(setup.instance);
  await ensureInstanceDirs(paths);
  const { lock } = await lockInstance(paths.lock, setup);
  let recorder: RunRecorder | undefined;
  let unregister: (() => void) | undefined;
  try {
    const existing = await readInstance(paths);
    const m = setup.profile.manifest;
    if (existing !== undefined && existing.profile.name !== m.metadata.name) {
      throw new UsageError(`instance ${setup.instance} belongs to profile ${existing.profile.name}, not ${m.metadata.name}`, {
        where: paths.dir,
        hint: `choose another --instance, or remove it first: productive-k3s-infra profile destroy --instance ${setup.instance} --purge`,
      });
    }
    const record = existing ?? newRecord(setup);
    let recoveredFrom: string | undefined;
    if (record.status === "running") {
      // We hold the lock, so whoever left `running` behind is gone.
      recoveredFrom = await markInterrupted(record);
      record.plan = undefined;
      warn(`recovering instance ${setup.instance}: run ${recoveredFrom ?? "?"} was interrupted`);
    }
    const previousStatus: InstanceStatus = record.status === "running" ? "interrupted" : record.status;

    recorder = new RunRecorder(paths.runsDir, setup.resolved.secrets.redact, {
      action: setup.action,
      instance: setup.instance,
      profile: m.metadata.name,
      version: m.metadata.version,
      engine: m.spec.engine.type,
    });
    const summary: RunSummary = {
      id: recorder.runId,
      action: setup.action,
      startedAt: recorder.startedAt.toISOString(),
      status: "running",
      record: recorder.recordFile,
      log: recorder.logFile,
    };
    // A plan does not change what the instance runs: version, digest and package copy follow install/destroy.
    const adopt = setup.action !== "plan" || existing === undefined;
    if (adopt) {
      record.profile = { name: m.metadata.name, version: m.metadata.version, category: m.metadata.category };
      record.digest = setup.profile.digest;
      record.engine = m.spec.engine.type;
      record.scenario = m.spec.scenario.type;
    }
    // The stored inputs are the ones the instance was installed with (destroy reuses them): a plan with
    // other values does not replace them.
    if (setup.action === "install" || existing === undefined) {
      record.inputs = storableInputs(setup.resolved);
      record.sensitiveInputs = setup.resolved.sensitiveNames;
    }
    record.current = { runId: recorder.runId, action: setup.action, pid: process.pid, host: hostname(), startedAt: summary.startedAt };
    record.status = "running";
    record.runs.push(summary);
    await writeInstance(paths, record);
    if (adopt) {
      await copyFile(setup.profile.tgz, `${paths.packageCopy}.tmp`);
      await chmod(`${paths.packageCopy}.tmp`, 0o600);
      await rename(`${paths.packageCopy}.tmp`, paths.packageCopy);
    }

    unregister = onInterrupt(() => {
      record.status = "interrupted";
      record.current = undefined;
      summary.status = "interrupted";
      summary.exitCode = 130;
      summary.endedAt = new Date().toISOString();
      try {
        writeRecordSync(paths.record, record);
        // Exiting now (Ctrl-C outside a tool run): leave no lock behind.
        unlinkSync(lock.file);
      } catch {
        // exiting anyway; status will report the run as interrupted from the lock
      }
    });

    await recorder.event("command.started", {
      digest: setup.profile.digest,
      pid: process.pid,
      ...(recoveredFrom ? { recoveredFrom } : {}),
    });
    const sensitiveOutputs = await readSensitiveOutputs(paths);
    // Stored sensitive outputs reach destroy steps (env, extra vars): mask them like inputs.
    for (const v of Object.values(sensitiveOutputs)) setup.resolved.secrets.add(typeof v === "string" ? v : JSON.stringify(v));
    const storedOutputs = { ...record.outputs, ...sensitiveOutputs };
    const run: EngineRun = {
      profile: setup.profile,
      resolved: setup.resolved,
      paths,
      recorder,
      instance: setup.instance,
      action: setup.action,
      storedOutputs,
      echo: setup.echo !== false,
    };
    let exitCode = 0;
    let finalStatus: InstanceStatus = previousStatus;
    try {
      const outcome = await body({
        run,
        record,
        previousStatus: existing === undefined ? "planned" : previousStatus,
        ...(recoveredFrom ? { recoveredFrom } : {}),
      });
      finalStatus = outcome.status;
      return { ...outcome.result, runId: recorder.runId, status: finalStatus, ...(recoveredFrom ? { recoveredFrom } : {}) };
    } catch (err) {
      exitCode = isPk3sError(err) ? err.exitCode : 1;
      const declined = err instanceof ApprovalDeclinedError;
      const keepsStatus = setup.action === "plan" || declined;
      const fresh: InstanceStatus = declined ? "planned" : "failed";
      finalStatus = exitCode === 130 ? "interrupted" : keepsStatus ? (existing === undefined ? fresh : previousStatus) : "failed";
      throw redactError(err, setup.resolved.secrets.redact);
    } finally {
      record.status = finalStatus;
      record.current = undefined;
      summary.status = exitCode === 0 ? "succeeded" : exitCode === 130 ? "interrupted" : "failed";
      summary.exitCode = exitCode;
      summary.endedAt = new Date().toISOString();
      await writeInstance(paths, record);
      await recorder.event("command.completed", { exitCode, durationMs: recorder.elapsedMs(), status: finalStatus });
    }
  } finally {
    unregister?.();
    await lock.release();
    await recorder?.exportTelemetry();
  }
}
