/**
 * Executing planned steps: output streamed to stderr with a `[step]` prefix
 * and appended to the run log; each step in its own process group with a
 * timeout (killed with its children on timeout or Ctrl-C).
 *
 * Helm installs are made safe to retry: a release left failed or pending by
 * an earlier first install is removed before installing again (no "has no
 * deployed releases" trap), a pending upgrade is rolled back, and a failed
 * `helm upgrade --install` is rolled back to the previous revision (or
 * removed when there was none).
 */
import { appendFile } from "node:fs/promises";
import { InterruptedError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { isInterrupted, type RunResult, runProcess } from "@productive-k3s/pkg-format/process";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { HELM_INSTALL_HINT } from "../cluster/tools.js";
import type { StepRecord } from "../records/schema.js";
import {
  displayArgv,
  formatArgv,
  type HelmTarget,
  helmRollbackArgs,
  helmStatusArgs,
  helmUninstallArgs,
  type PlannedStep,
  type StepName,
} from "./plan.js";

export interface ExecuteOptions {
  cwd: string;
  env: (step: StepName) => Record<string, string | undefined>;
  timeoutMs: number;
  timeoutText: string;
  logFile: string;
  helm?: HelmTarget | undefined;
  /** Keep going after a failed step (uninstall --force); failures are recorded. */
  continueOnError?: boolean;
  /** Called after each step, e.g. to persist progress. */
  onStep?: (record: StepRecord) => void;
}

export interface ExecuteOutcome {
  steps: StepRecord[];
  /** The first step that failed, timed out or was interrupted. */
  failed?: { step: StepName; error: StepFailedError | InterruptedError; interrupted: boolean } | undefined;
}

const HELM_GRACE_MS = 60_000;

async function logLine(logFile: string, line: string): Promise<void> {
  await appendFile(logFile, `${line}\n`, { mode: 0o600 });
}

/** The headline of a failed step: its last line of output, made terminal-safe (it is printed and recorded). */
function lastLine(result: RunResult): string {
  const lines = `${result.stderr}\n${result.stdout}`.split("\n").filter((l) => l.trim() !== "");
  const fromErr = result.stderr.split("\n").filter((l) => l.trim() !== "");
  return terminalLine((fromErr.pop() ?? lines.pop() ?? "").trim());
}

async function run(step: PlannedStep, file: string, args: string[], opts: ExecuteOptions, timeoutMs: number): Promise<RunResult> {
  return runProcess(file, args, {
    cwd: opts.cwd,
    env: opts.env(step.name),
    ...(step.stdin === undefined ? {} : { stdin: step.stdin }),
    timeoutMs,
    echo: true,
    prefix: `[${step.name}] `,
    logFile: opts.logFile,
    toolName: step.kind === "script" ? "bash" : "helm",
    installHint: step.kind === "script" ? "install bash" : HELM_INSTALL_HINT,
  });
}

interface HelmRelease {
  revision: number;
  status: string;
}

async function helmStatus(step: PlannedStep, h: HelmTarget, opts: ExecuteOptions): Promise<HelmRelease | undefined> {
  const result = await runProcess(h.helm, helmStatusArgs(h), {
    cwd: opts.cwd,
    env: opts.env(step.name),
    timeoutMs: 120_000,
    toolName: "helm",
  });
  if (result.exitCode !== 0) return undefined;
  try {
    const doc = JSON.parse(result.stdout) as { version?: unknown; info?: { status?: unknown } };
    return { revision: Number(doc.version ?? 0), status: String(doc.info?.status ?? "unknown") };
  } catch {
    return undefined;
  }
}

async function helmAux(step: PlannedStep, opts: ExecuteOptions, args: string[]): Promise<RunResult> {
  await logLine(opts.logFile, `==> [${step.name}] ${formatArgv([step.file, ...args])}`);
  process.stderr.write(`[${step.name}] running ${formatArgv(["helm", ...args])}\n`);
  return run(step, step.file, args, opts, opts.timeoutMs + HELM_GRACE_MS);
}

/** `helm upgrade --install` with the retry/rollback rules above. */
async function runHelmInstall(step: PlannedStep, opts: ExecuteOptions): Promise<RunResult> {
  const h = opts.helm;
  if (h === undefined) return run(step, step.file, step.args, opts, opts.timeoutMs + HELM_GRACE_MS);
  const before = await helmStatus(step, h, opts);
  if (isInterrupted())
    return { exitCode: null, signal: "SIGINT", timedOut: false, interrupted: true, stdout: "", stderr: "", durationMs: 0 };
  let previous = before;
  if (before !== undefined && before.status !== "deployed") {
    if (before.revision <= 1 || before.status === "pending-install") {
      process.stderr.write(
        `[${step.name}] release ${h.release} was left ${terminalLine(before.status)} by an earlier install; removing it first\n`,
      );
      await helmAux(step, opts, helmUninstallArgs(h, opts.timeoutText));
      previous = undefined;
    } else if (before.status.startsWith("pending-")) {
      process.stderr.write(
        `[${step.name}] release ${h.release} is ${terminalLine(before.status)}; rolling back to the last deployed revision first\n`,
      );
      await helmAux(step, opts, helmRollbackArgs(h, opts.timeoutText));
    }
  }
  await logLine(opts.logFile, `==> [${step.name}] ${formatArgv(displayArgv(step, true))}`);
  const result = await run(step, step.file, step.args, opts, opts.timeoutMs + HELM_GRACE_MS);
  if (result.exitCode === 0 || result.interrupted) return result;
  if (previous !== undefined && previous.revision > 0) {
    process.stderr.write(`[${step.name}] helm failed; rolling back ${h.release} to revision ${previous.revision}\n`);
    await helmAux(step, opts, helmRollbackArgs(h, opts.timeoutText, previous.revision));
  } else {
    process.stderr.write(`[${step.name}] helm failed on a first install; removing the failed release ${h.release}\n`);
    await helmAux(step, opts, helmUninstallArgs(h, opts.timeoutText));
  }
  return result;
}

export async function executeSteps(steps: readonly PlannedStep[], opts: ExecuteOptions): Promise<ExecuteOutcome> {
  const records: StepRecord[] = [];
  let failed: ExecuteOutcome["failed"];
  for (const step of steps) {
    const startedAt = new Date().toISOString();
    if (isInterrupted()) {
      // Ctrl-C arrived while an earlier step (e.g. a rollback) ran: start nothing new.
      const record: StepRecord = {
        name: step.name,
        status: "interrupted",
        startedAt,
        endedAt: startedAt,
        error: "interrupted before it started",
      };
      records.push(record);
      opts.onStep?.(record);
      failed ??= {
        step: step.name,
        error: new InterruptedError(`interrupted before step ${step.name}`, { where: opts.logFile }),
        interrupted: true,
      };
      break;
    }
    process.stderr.write(`==> ${step.name}: ${terminalLine(formatArgv(displayArgv(step, true)))}\n`);
    let result: RunResult;
    if (step.kind === "helm-install") {
      result = await runHelmInstall(step, opts);
    } else {
      await logLine(opts.logFile, `==> [${step.name}] ${formatArgv(displayArgv(step, true))}`);
      result = await run(step, step.file, step.args, opts, step.kind === "script" ? opts.timeoutMs : opts.timeoutMs + HELM_GRACE_MS);
    }
    const endedAt = new Date().toISOString();
    let record: StepRecord;
    const exit = result.exitCode === null ? {} : { exitCode: result.exitCode };
    if (result.interrupted) {
      record = { name: step.name, status: "interrupted", startedAt, endedAt, ...exit, error: "interrupted (SIGINT/SIGTERM)" };
    } else if (result.timedOut) {
      record = {
        name: step.name,
        status: "timed-out",
        startedAt,
        endedAt,
        error: `timed out after ${opts.timeoutText}; killed with its child processes`,
      };
    } else if (step.kind === "helm-uninstall" && result.exitCode !== 0 && /release: not found/i.test(result.stderr)) {
      process.stderr.write(`[${step.name}] release already gone; continuing\n`);
      record = { name: step.name, status: "ok", startedAt, endedAt, ...exit };
    } else if (result.exitCode !== 0) {
      const detail = lastLine(result);
      record = {
        name: step.name,
        status: "failed",
        startedAt,
        endedAt,
        ...exit,
        error: `exit ${result.exitCode ?? result.signal}${detail === "" ? "" : `: ${detail}`}`,
      };
    } else {
      record = { name: step.name, status: "ok", startedAt, endedAt, ...exit };
    }
    records.push(record);
    await logLine(opts.logFile, `<== [${step.name}] ${record.status}${record.error === undefined ? "" : ` (${record.error})`}`);
    opts.onStep?.(record);
    if (record.status === "ok") continue;
    const interrupted = record.status === "interrupted";
    const error = interrupted
      ? new InterruptedError(`interrupted during step ${step.name}`, { where: opts.logFile })
      : new StepFailedError(`step ${step.name} failed: ${record.error ?? "unknown error"}`, {
          where: opts.logFile,
          hint: `see the run log ${opts.logFile}`,
        });
    failed ??= { step: step.name, error, interrupted };
    if (interrupted || opts.continueOnError !== true) break;
    process.stderr.write(`warning: step ${step.name} failed; continuing (--force)\n`);
  }
  return { steps: records, failed };
}
