/**
 * The lifecycle every state-changing command (plan, install, destroy) shares:
 * lock the instance, recover from an interrupted previous run, mark the
 * instance `running` (with run id, pid and host) while the engine works, keep
 * the run record, and always leave a final status behind.
 *
 * Interrupted runs: a run killed even with `kill -9` leaves status `running`
 * and a lock nobody holds any more — with local files, a lock file whose
 * holder pid is dead; with PostgreSQL, no lock at all (the server freed it
 * when the run's session ended). `status` reports that as `interrupted`.
 * The next run that takes the lock marks the old run interrupted and
 * proceeds. A local lock file left by a dead holder is only taken over by
 * `install` (automatically, and only when the pid is dead on this host: a
 * live holder, or one on another host, is never taken over: exit 7);
 * plan/destroy need `--break-lock` for that.
 */
import { access } from "node:fs/promises";
import { hostname } from "node:os";
import { warn } from "@productive-k3s/pkg-format/cli";
import { isPk3sError, LockedError, UsageError } from "@productive-k3s/pkg-format/errors";
import { onInterrupt } from "@productive-k3s/pkg-format/interrupts";
import { type StateLock, stateBackend } from "@productive-k3s/pkg-format/state-backend";
import type { EngineRun } from "../engines/engine-run.js";
import type { OpenedProfile } from "../profile/opened-profile.js";
import type { ResolvedInputs } from "../profile/resolved-inputs.js";
import { redactError } from "../secrets.js";
import {
  type Action,
  ensureInstanceDirs,
  type InstancePaths,
  type InstanceRecord,
  type InstanceStatus,
  inspectInstanceLock,
  instancePaths,
  instanceWhere,
  lockInstanceState,
  type RunSummary,
  readInstance,
  readSensitiveOutputs,
  writeInstance,
  writeInstanceOnExit,
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

async function lockInstance(paths: InstancePaths, setup: RunSetup): Promise<StateLock> {
  const command = `profile ${setup.action}`;
  try {
    return await lockInstanceState(paths, { command, breakLock: setup.breakLock === true });
  } catch (err) {
    if (!(err instanceof LockedError) || setup.autoRecover !== true) throw err;
    const state = await inspectInstanceLock(paths);
    if (state.state !== "stale") throw err;
    warn(`the previous run (pid ${state.holder.pid}, started ${state.holder.startedAt}) is no longer alive; taking over its lock`);
    return lockInstanceState(paths, { command, breakLock: true });
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
  // The run record is a file on the machine that ran (another operator's run: nothing to append to here).
  const here = await access(summary.record).then(
    () => true,
    () => false,
  );
  if (!here) return summary.id;
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

export async function withInstanceRun<T>(
  setup: RunSetup,
  body: (ctx: RunContext) => Promise<{ status: InstanceStatus; result: T }>,
): Promise<T & { runId: string; status: InstanceStatus; recoveredFrom?: string }> {
  const paths = instancePaths(setup.instance);
  const backend = await stateBackend();
  await ensureInstanceDirs(paths);
  const lock = await lockInstance(paths, setup);
  let recorder: RunRecorder | undefined;
  let unregister: (() => void) | undefined;
  try {
    const existing = await readInstance(paths);
    const m = setup.profile.manifest;
    if (existing !== undefined && existing.profile.name !== m.metadata.name) {
      throw new UsageError(`instance ${setup.instance} belongs to profile ${existing.profile.name}, not ${m.metadata.name}`, {
        where: await instanceWhere(paths),
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
      host: hostname(),
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
    await writeInstance(paths, record, adopt ? { packageFrom: setup.profile.tgz } : {});

    unregister = onInterrupt(() => {
      record.status = "interrupted";
      record.current = undefined;
      summary.status = "interrupted";
      summary.exitCode = 130;
      summary.endedAt = new Date().toISOString();
      // Exiting now (Ctrl-C outside a tool run): leave no lock behind. A backend that cannot write
      // synchronously (PostgreSQL) leaves `running` with a freed lock, which reads as interrupted.
      writeInstanceOnExit(backend, paths, record);
      lock.releaseOnExit();
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
    const database = backend.engineDatabase();
    // The database password reaches OpenTofu in its environment: masked like an input if a tool echoes it.
    for (const v of Object.values(database?.env ?? {})) setup.resolved.secrets.add(v);
    const run: EngineRun = {
      profile: setup.profile,
      resolved: setup.resolved,
      paths,
      recorder,
      instance: setup.instance,
      action: setup.action,
      storedOutputs,
      echo: setup.echo !== false,
      database,
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
