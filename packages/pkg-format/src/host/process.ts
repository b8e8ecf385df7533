/**
 * Running external tools and package scripts (helm, kubectl, tofu,
 * ansible-playbook, hook scripts).
 *
 * - Each child gets its own process group, so a timeout or Ctrl-C kills the
 *   script *and everything it started* (SIGTERM to the group, SIGKILL after a
 *   grace period), never leaving orphans behind.
 * - Output is split into lines, redacted, optionally echoed to stderr with a
 *   step prefix, appended to a run log, and captured (bounded).
 * - The first SIGINT/SIGTERM while children run kills them and lets the
 *   caller record the run as interrupted (RunResult.interrupted); with no
 *   child running, registered handlers run and the process exits 130. A
 *   second signal exits 130 at once.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, createWriteStream, statSync, type WriteStream } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { ExitCode, MissingToolError } from "../errors.js";
import type { Redactor } from "./redact.js";

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
  /** Applied to every line before it is echoed, logged or captured. */
  redact?: Redactor;
  /** Name used in "not installed" errors (defaults to the file name). */
  toolName?: string;
  /** Install hint for a missing tool. */
  installHint?: string;
  /** Bytes of stdout/stderr kept in the result (each); default 16 MiB. */
  maxCapture?: number;
  /** Grace between SIGTERM and SIGKILL; default 5000 ms. */
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

const activeGroups = new Set<number>();
const interruptHandlers = new Set<() => void>();
let interrupted = false;
let signalsInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // group already gone
  }
}

function onSignal(): void {
  if (interrupted || activeGroups.size === 0) {
    interrupted = true;
    for (const handler of interruptHandlers) {
      try {
        handler();
      } catch {
        // best effort: we are exiting
      }
    }
    for (const pgid of activeGroups) killGroup(pgid, "SIGKILL");
    process.exit(ExitCode.interrupted);
  }
  interrupted = true;
  for (const pgid of activeGroups) killGroup(pgid, "SIGTERM");
}

function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/** True once SIGINT/SIGTERM was received while a child ran. */
export function isInterrupted(): boolean {
  return interrupted;
}

/** Run `fn` (synchronously) if the process is interrupted while no child runs, just before exit 130. */
export function onInterrupt(fn: () => void): () => void {
  installSignalHandlers();
  interruptHandlers.add(fn);
  return () => interruptHandlers.delete(fn);
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

class LineSink {
  private pending = "";
  private captured = "";
  private capturedBytes = 0;
  constructor(
    private readonly emitLine: (line: string) => void,
    private readonly max: number,
  ) {}
  push(chunk: string): void {
    const text = this.pending + chunk;
    const lines = text.split("\n");
    this.pending = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }
  end(): void {
    if (this.pending !== "") this.line(this.pending);
    this.pending = "";
  }
  private line(raw: string): void {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    this.emitLine(line);
  }
  capture(line: string): void {
    if (this.capturedBytes >= this.max) return;
    this.captured += `${line}\n`;
    this.capturedBytes += line.length + 1;
  }
  get text(): string {
    return this.captured;
  }
}

export async function runProcess(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  installSignalHandlers();
  const redact = options.redact ?? ((s: string) => s);
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
  const makeSink = (target: "stdout" | "stderr"): LineSink => {
    const sink: LineSink = new LineSink((line) => {
      const clean = redact(line);
      sink.capture(clean);
      if (options.echo === true) process.stderr.write(`${prefix}${clean}\n`);
      log?.write(`${prefix}${target === "stderr" ? "! " : ""}${clean}\n`);
    }, max);
    return sink;
  };
  const out = makeSink("stdout");
  const err = makeSink("stderr");
  child.stdout?.setEncoding("utf8").on("data", (c: string) => out.push(c));
  child.stderr?.setEncoding("utf8").on("data", (c: string) => err.push(c));
  if (options.input !== undefined && child.stdin) {
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input);
  }

  let timedOut = false;
  let killedByUs = false;
  let timer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  const grace = options.killGraceMs ?? 5000;
  const terminate = (): void => {
    if (child.pid === undefined || killedByUs) return;
    killedByUs = true;
    killGroup(child.pid, "SIGTERM");
    graceTimer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, "SIGKILL"), grace);
    graceTimer.unref();
  };
  if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
    timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, options.timeoutMs);
  }

  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT" || e.code === "EACCES") {
        const tool = options.toolName ?? file;
        reject(
          new MissingToolError(tool, `${tool} could not be started (${e.code === "ENOENT" ? "not found" : "not executable"}: ${file})`, {
            hint: options.installHint ?? `install ${tool} or check the path`,
          }),
        );
      } else {
        reject(e);
      }
    });
    if (child.pid !== undefined) activeGroups.add(child.pid);
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
    // Interrupt arriving while this child runs: the signal handler sent SIGTERM to every group.
    const poll = setInterval(() => {
      if (interrupted) terminate();
    }, 50);
    child.once("exit", () => clearInterval(poll));
    child.once("error", () => clearInterval(poll));
  }).finally(() => {
    if (timer) clearTimeout(timer);
    if (child.pid !== undefined) activeGroups.delete(child.pid);
  });

  if (killedByUs && child.pid !== undefined) {
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
    interrupted: interrupted && !timedOut,
    stdout: out.text,
    stderr: err.text,
    durationMs: Date.now() - started,
  };
}
