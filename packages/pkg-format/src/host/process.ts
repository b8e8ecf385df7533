/**
 * Running external tools and package scripts (helm, kubectl, tofu,
 * ansible-playbook, hook scripts).
 *
 * - Each child gets its own process group, so a timeout or Ctrl-C reaches
 *   the script *and everything it started*, never leaving orphans behind.
 * - Output is redacted as a stream (a secret split across chunks or lines is
 *   still masked, see redact.ts), then split into lines, optionally echoed to
 *   stderr with a step prefix, appended to a run log, and captured (bounded).
 * - Arguments and environment values holding a NUL are refused before
 *   anything is spawned (ValidationError, exit 4), without echoing the value.
 *
 * Interrupts, the rule (like OpenTofu's "press Ctrl-C again to force"):
 * - The first SIGINT/SIGTERM is forwarded, as the same signal, to the process
 *   group of every running child, which then has the grace period
 *   (`killGraceMs`, default 10 s) to finish (OpenTofu saves its state) before
 *   SIGKILL. The caller sees RunResult.interrupted and unwinds normally, so
 *   its temp directories and records are cleaned up. With no child running,
 *   the registered `onInterrupt` handlers run and the process exits 130.
 * - A second signal within DUPLICATE_SIGNAL_WINDOW_MS (1 s) of the first is
 *   the same Ctrl-C delivered twice (the terminal signals the whole
 *   foreground group, and a parent such as pk3s may forward it too): ignored.
 * - A later second signal is an explicit "force quit": every child group gets
 *   SIGKILL, the `onInterrupt` handlers run, and the process exits 130.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, createWriteStream, statSync, type WriteStream } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { MissingToolError, type Problem, ValidationError } from "../errors.js";
import { installSignalHandlers, interruptSignal, killGroup, trackChild } from "./interrupts.js";
import type { Redactor, RedactStream } from "./redact.js";

// The interrupt rule lives in interrupts.ts (without child_process, for code that only needs onInterrupt).
export { DUPLICATE_SIGNAL_WINDOW_MS, isInterrupted, onInterrupt } from "./interrupts.js";

export interface RunOptions {
  cwd?: string;
  /** Merged over process.env unless `extendEnv` is false. `undefined` values remove a variable. */
  env?: Record<string, string | undefined>;
  extendEnv?: boolean;
  timeoutMs?: number;
  /** Written to the child's stdin, which is otherwise closed. */
  input?: string;
  /** `inherit` passes the terminal through (nothing is captured or logged). */
  stdio?: "pipe" | "inherit";
  /** `inherit`: the child reads our stdin (a script asking the user), while its output is still piped. */
  stdin?: "inherit";
  /** Prepended to each echoed/logged line, e.g. `[helm] `. */
  prefix?: string;
  /** Echo output lines to our stderr as they arrive. */
  echo?: boolean;
  /** Append output lines to this file (created 0600). */
  logFile?: string;
  /** Applied to the output streams before they are split into lines, echoed, logged or captured. */
  redact?: Redactor;
  /** Name used in "not installed" errors (defaults to the file name). */
  toolName?: string;
  /** Install hint for a missing tool. */
  installHint?: string;
  /** Bytes of stdout/stderr kept in the result (each); default 16 MiB. */
  maxCapture?: number;
  /** Grace between the first signal (timeout: SIGTERM; interrupt: the signal received) and SIGKILL; default 10 000 ms. */
  killGraceMs?: number;
}

export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  interrupted: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

const DEFAULT_KILL_GRACE_MS = 10_000;

const NUL_PROBLEM = "holds a NUL character, which no process can receive (arguments and environment values end at NUL); remove it";

/**
 * Problems for values that cannot reach a process (a NUL character), one per
 * name, never quoting the value: for runtimes to check their inputs up front.
 */
export function unpassableValueProblems(values: Record<string, string | undefined>, file?: string): Problem[] {
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (name.includes("\0") || value?.includes("\0") === true) {
      problems.push({
        ...(file === undefined ? {} : { file }),
        path: name.replaceAll("\0", "\\0"),
        message: NUL_PROBLEM,
        severity: "error",
      });
    }
  }
  return problems;
}

function assertPassable(tool: string, file: string, args: readonly string[], env: Record<string, string | undefined>): void {
  const problems = unpassableValueProblems(env).map((p) => ({ ...p, message: `environment variable ${p.path} ${NUL_PROBLEM}` }));
  if (file.includes("\0")) problems.unshift({ message: `the executable path ${NUL_PROBLEM}`, severity: "error" });
  args.forEach((arg, i) => {
    if (arg.includes("\0")) problems.push({ path: `argv[${i + 1}]`, message: `argument ${i + 1} ${NUL_PROBLEM}`, severity: "error" });
  });
  const first = problems[0];
  if (first !== undefined) {
    throw new ValidationError(`cannot run ${tool}: ${first.message}`, problems, {
      hint: "a value with a NUL byte (often a binary file read as text) cannot be passed to a tool",
    });
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Find `name` on PATH (or as given when it contains a slash). */
export function findExecutable(name: string): string | undefined {
  if (name.includes("/")) return isExecutable(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The executable to use for a tool: `$envVar` when set (it must exist),
 * else `name` from PATH. Throws MissingToolError (exit 5) with a hint.
 */
export function resolveTool(name: string, envVar: string, installHint?: string): string {
  const override = process.env[envVar];
  if (override !== undefined && override !== "") {
    const found = findExecutable(isAbsolute(override) || override.includes("/") ? override : override);
    if (found === undefined) {
      throw new MissingToolError(name, `${name} not found: ${envVar}=${override} is not an executable file`, {
        where: envVar,
        hint: `fix or unset ${envVar}`,
      });
    }
    return found;
  }
  const found = findExecutable(name);
  if (found === undefined) {
    throw new MissingToolError(name, `${name} is not installed (not found on PATH)`, {
      where: "PATH",
      hint: installHint ?? `install ${name}, or point ${envVar} at it`,
    });
  }
  return found;
}

/** A line longer than this is cut (echoed and logged in pieces), so a tool that never ends a line cannot fill memory. */
const MAX_LINE_CHARS = 256 * 1024;

/** Splits (already redacted) text into lines for echo, log and capture. */
class LineSink {
  private pending = "";
  private captured = "";
  private capturedBytes = 0;
  constructor(
    private readonly emitLine: (line: string) => void,
    private readonly max: number,
  ) {}
  push(text: string): void {
    if (text === "") return;
    const lines = (this.pending + text).split("\n");
    this.pending = lines.pop() ?? "";
    for (const line of lines) this.emitLine(line.endsWith("\r") ? line.slice(0, -1) : line);
    while (this.pending.length > MAX_LINE_CHARS) {
      this.emitLine(this.pending.slice(0, MAX_LINE_CHARS));
      this.pending = this.pending.slice(MAX_LINE_CHARS);
    }
  }
  end(): void {
    if (this.pending !== "") this.push("\n");
  }
  /** Keep at most `max` bytes (UTF-16 units past the first `max`, for simplicity, are never kept). */
  capture(line: string): void {
    const room = this.max - this.capturedBytes;
    if (room <= 0) return;
    const kept = line.length + 1 <= room ? `${line}\n` : line.slice(0, room);
    this.captured += kept;
    this.capturedBytes += Buffer.byteLength(kept);
  }
  get text(): string {
    return this.captured;
  }
}

/** One output stream of the child: redacted as a stream first, then split into lines. */
class OutputSink {
  private readonly lines: LineSink;
  constructor(
    private readonly redact: RedactStream,
    emitLine: (line: string, capture: (line: string) => void) => void,
    max: number,
  ) {
    const lines: LineSink = new LineSink((line) => emitLine(line, (l) => lines.capture(l)), max);
    this.lines = lines;
  }
  push(chunk: string): void {
    this.lines.push(this.redact.push(chunk));
  }
  end(): void {
    this.lines.push(this.redact.end());
    this.lines.end();
  }
  get text(): string {
    return this.lines.text;
  }
}

const noRedaction: RedactStream = { push: (chunk) => chunk, end: () => "" };

export async function runProcess(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  installSignalHandlers();
  const tool = options.toolName ?? file;
  assertPassable(tool, file, args, options.env ?? {});
  const env: Record<string, string | undefined> = options.extendEnv === false ? {} : { ...process.env };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const started = Date.now();
  const inherit = options.stdio === "inherit";
  const child = spawn(file, [...args], {
    cwd: options.cwd,
    env,
    detached: true,
    stdio: inherit
      ? ["inherit", "inherit", "inherit"]
      : [options.stdin === "inherit" ? "inherit" : options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });

  let log: WriteStream | undefined;
  if (options.logFile !== undefined && !inherit) log = createWriteStream(options.logFile, { flags: "a", mode: 0o600 });
  const prefix = options.prefix ?? "";
  const max = options.maxCapture ?? 16 * 1024 * 1024;
  const makeSink = (target: "stdout" | "stderr"): OutputSink =>
    new OutputSink(
      options.redact?.stream() ?? noRedaction,
      (line, capture) => {
        capture(line);
        if (options.echo === true) process.stderr.write(`${prefix}${line}\n`);
        log?.write(`${prefix}${target === "stderr" ? "! " : ""}${line}\n`);
      },
      max,
    );
  const out = makeSink("stdout");
  const err = makeSink("stderr");
  child.stdout?.setEncoding("utf8").on("data", (c: string) => out.push(c));
  child.stderr?.setEncoding("utf8").on("data", (c: string) => err.push(c));
  if (options.input !== undefined && child.stdin) {
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input);
  }

  let timedOut = false;
  let signalled = false;
  let timer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const grace = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  /** First (and only) polite signal to the group, then SIGKILL once the grace period is over. */
  const stop = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined || signalled) return;
    signalled = true;
    killGroup(child.pid, signal);
    const pgid = child.pid;
    graceTimer = setTimeout(() => killGroup(pgid, "SIGKILL"), grace);
    graceTimer.unref();
  };
  if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
    timer = setTimeout(() => {
      timedOut = true;
      stop("SIGTERM");
    }, options.timeoutMs);
  }
  let untrack: (() => void) | undefined;

  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT" || e.code === "EACCES") {
        reject(
          new MissingToolError(tool, `${tool} could not be started (${e.code === "ENOENT" ? "not found" : "not executable"}: ${file})`, {
            hint: options.installHint ?? `install ${tool} or check the path`,
          }),
        );
      } else {
        reject(e);
      }
    });
    // Interrupted before this child started: it gets the signal too (trackChild sends it).
    if (child.pid !== undefined) untrack = trackChild({ pgid: child.pid, interrupt: (signal) => stop(signal) });
    child.once("exit", (code, signal) => {
      // Wait briefly for the pipes to drain; a backgrounded grandchild may hold them open.
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        resolve({ code, signal });
      };
      if (inherit) return done();
      const t = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        done();
      }, 2000);
      t.unref();
      child.once("close", () => {
        clearTimeout(t);
        done();
      });
    });
  }).finally(() => {
    if (timer) clearTimeout(timer);
    untrack?.();
  });

  if (signalled && child.pid !== undefined) {
    // The leader is gone; make sure nothing it started survives.
    killGroup(child.pid, "SIGKILL");
    if (graceTimer) clearTimeout(graceTimer);
  }
  out.end();
  err.end();
  if (log) await new Promise<void>((resolve) => log.end(resolve));
  return {
    exitCode: outcome.code,
    signal: outcome.signal,
    timedOut,
    interrupted: interruptSignal() !== undefined && !timedOut,
    stdout: out.text,
    stderr: err.text,
    durationMs: Date.now() - started,
  };
}
