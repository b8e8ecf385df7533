/**
 * What every engine step gets, and the one way a step runs a tool: recorded
 * in the run record, output echoed to stderr with a prefix, appended to the
 * run log, everything redacted, interrupt and failure mapped to typed errors.
 */
import { InterruptedError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { type RunResult, runProcess } from "@productive-k3s/pkg-format/process";
import type { EngineDatabase } from "@productive-k3s/pkg-format/state-backend";
import { terminalBlock } from "@productive-k3s/pkg-format/terminal-text";
import type { OpenedProfile } from "../profile/opened-profile.js";
import type { ResolvedInputs } from "../profile/resolved-inputs.js";
import type { Action, InstancePaths } from "../state/instance-store.js";
import type { RunRecorder } from "../state/run-record.js";

export interface EngineRun {
  profile: OpenedProfile;
  resolved: ResolvedInputs;
  paths: InstancePaths;
  recorder: RunRecorder;
  instance: string;
  action: Action;
  /** Stored outputs (plain + sensitive), for destroy steps. */
  storedOutputs: Record<string, unknown>;
  /** Echo tool output to stderr. */
  echo: boolean;
  /** The team's PostgreSQL state database (OpenTofu keeps its state there too); undefined with local state. */
  database: EngineDatabase | undefined;
}

export interface StepOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  toolName?: string;
  installHint?: string;
  /** false: neither echoed nor logged (tool output that may hold secret values, e.g. `tofu output -json`). */
  record?: boolean;
}

/**
 * Base child environment: the merged profile env, context variables, and no
 * TF_VAR_* inherited from the caller's shell (only the profile's inputs define
 * OpenTofu variables).
 */
export function baseEnv(run: EngineRun): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(process.env)) if (key.startsWith("TF_VAR_")) env[key] = undefined;
  Object.assign(env, run.resolved.env, run.resolved.engineEnv, {
    PK3S_INSTANCE: run.instance,
    PK3S_ACTION: run.action,
    PK3S_RUN_ID: run.recorder.runId,
    PK3S_PROFILE_NAME: run.profile.manifest.metadata.name,
    PK3S_PROFILE_VERSION: run.profile.manifest.metadata.version,
    PK3S_PACKAGE_ROOT: run.profile.root,
    PK3S_ENGINE_STATE_DIR: run.paths.engineDir,
    PK3S_INVOCATION_DIR: process.cwd(),
  });
  return env;
}

export async function runStep(
  run: EngineRun,
  step: string,
  file: string,
  args: readonly string[],
  options: StepOptions,
): Promise<RunResult> {
  await run.recorder.event("step.started", { step });
  const visible = options.record !== false;
  const result = await runProcess(file, args, {
    cwd: options.cwd,
    env: options.env ?? baseEnv(run),
    echo: visible && run.echo,
    prefix: `[${step}] `,
    ...(visible ? { logFile: run.recorder.logFile } : {}),
    redact: run.resolved.secrets.redact,
    ...(options.toolName === undefined ? {} : { toolName: options.toolName }),
    ...(options.installHint === undefined ? {} : { installHint: options.installHint }),
  });
  await run.recorder.event("step.completed", {
    step,
    exitCode: result.exitCode ?? -1,
    durationMs: result.durationMs,
    ...(result.signal ? { signal: result.signal } : {}),
  });
  if (result.interrupted) throw new InterruptedError(`${step} was interrupted`, { where: run.recorder.logFile });
  if (result.exitCode !== 0) {
    // Redact the whole captured text first: a secret spanning lines only matches before it is cut and indented.
    const captured = run.resolved.secrets.redact(visible ? result.stderr || result.stdout : result.stderr);
    const tail = terminalBlock(
      captured
        .trim()
        .split("\n")
        .filter((l) => l.trim() !== "")
        .slice(-8)
        .map((l) => `    ${l}`)
        .join("\n"),
    );
    const how = result.timedOut
      ? "timed out"
      : result.signal
        ? `was killed by ${result.signal}`
        : `failed with exit code ${result.exitCode}`;
    throw new StepFailedError(`${step} ${how}${tail === "" ? "" : `:\n${tail}`}`, {
      where: run.recorder.logFile,
      hint: `see the run log ${run.recorder.logFile}`,
    });
  }
  return result;
}
