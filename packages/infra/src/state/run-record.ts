/**
 * The run record of one command on one instance: NDJSON events in
 * runs/<run-id>.ndjson (`command.started`, `step.started`/`step.completed`,
 * `command.completed` with duration and exit code; every event carries the
 * run id and a correlation id, PK3S_CORRELATION_ID when the caller set one)
 * and the tools' output in runs/<run-id>.log. Every line is redacted.
 */
import { randomBytes } from "node:crypto";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import type { Redactor } from "@productive-k3s/pkg-format/redact";
import { exportEvents, type RunEvent } from "./telemetry.js";

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

export class RunRecorder {
  readonly runId: string;
  readonly correlationId: string;
  readonly recordFile: string;
  readonly logFile: string;
  readonly startedAt: Date;
  private readonly events: RunEvent[] = [];

  constructor(
    runsDir: string,
    private readonly redact: Redactor,
    private readonly base: Record<string, unknown>,
  ) {
    this.startedAt = new Date();
    this.runId = newRunId(this.startedAt);
    const fromEnv = process.env.PK3S_CORRELATION_ID;
    this.correlationId = fromEnv !== undefined && /^[A-Za-z0-9._:-]{1,80}$/.test(fromEnv) ? fromEnv : this.runId;
    this.recordFile = join(runsDir, `${this.runId}.ndjson`);
    this.logFile = join(runsDir, `${this.runId}.log`);
  }

  async event(name: string, data: Record<string, unknown> = {}): Promise<void> {
    const event: RunEvent = {
      event: name,
      ts: new Date().toISOString(),
      runId: this.runId,
      correlationId: this.correlationId,
      ...this.base,
      ...data,
    };
    this.events.push(event);
    await appendFile(this.recordFile, `${this.redact(JSON.stringify(event))}\n`, { mode: 0o600 });
  }

  async log(line: string): Promise<void> {
    await appendFile(this.logFile, `${this.redact(line)}\n`, { mode: 0o600 });
  }

  elapsedMs(): number {
    return Date.now() - this.startedAt.getTime();
  }

  async exportTelemetry(): Promise<void> {
    await exportEvents(this.events);
  }
}

/** Append an event to an earlier run's record (marking it interrupted on recovery). */
export async function appendToRecord(recordFile: string, event: RunEvent): Promise<void> {
  await appendFile(recordFile, `${JSON.stringify(event)}\n`, { mode: 0o600 });
}
