/**
 * Typed errors shared by the library and the three binaries.
 *
 * Every error a user can cause carries its exit code (DESIGN.md §4), so the
 * CLIs never map errors to codes by guessing and never print a stack trace
 * for them. Anything that is not a `Pk3sError` is a bug and is reported as
 * such (exit 1, with the stack only under PK3S_DEBUG=1).
 */

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  notFound: 3,
  validation: 4,
  missingTool: 5,
  integrity: 6,
  locked: 7,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** One located problem: used by validation to report everything at once. */
export interface Problem {
  /** File the problem is in (path as the user gave it, or the entry inside a package). */
  file?: string | undefined;
  /** 1-based line and column, when known. */
  line?: number | undefined;
  column?: number | undefined;
  /** Field path such as `spec.chart.path` or `spec.inputs[2].name`. */
  path?: string | undefined;
  /** What is wrong, including what was expected and what was found. */
  message: string;
  severity: "error" | "warning";
}

export interface Pk3sErrorOptions {
  /** What the user can do next. */
  hint?: string | undefined;
  /** Where: a file, URL, cluster or catalog. */
  where?: string | undefined;
  cause?: unknown;
}

/**
 * Marks every Pk3sError, whichever copy of this module made it: a bundled CLI holds one copy in its entry and
 * one in its lazily loaded chunks (scripts/bundle-cli.mjs), so class identity cannot be relied on there.
 */
const BRAND = Symbol.for("@productive-k3s/pkg-format/Pk3sError");

export class Pk3sError extends Error {
  readonly exitCode: ExitCodeValue;
  /** Stable machine-readable code, e.g. `E_VALIDATION`. */
  readonly code: string;
  readonly hint: string | undefined;
  readonly where: string | undefined;

  constructor(code: string, exitCode: ExitCodeValue, message: string, options: Pk3sErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.where = options.where;
  }

  get [BRAND](): true {
    return true;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      exitCode: this.exitCode,
      message: this.message,
      ...(this.where === undefined ? {} : { where: this.where }),
      ...(this.hint === undefined ? {} : { hint: this.hint }),
    };
  }
}

/** A tool or step failed (exit 1). */
export class StepFailedError extends Pk3sError {
  constructor(message: string, options?: Pk3sErrorOptions) {
    super("E_STEP_FAILED", ExitCode.failed, message, options);
  }
}

/** Bad command line (exit 2). */
export class UsageError extends Pk3sError {
  constructor(message: string, options?: Pk3sErrorOptions) {
    super("E_USAGE", ExitCode.usage, message, options);
  }
}

/** A file, package, instance or catalog entry does not exist (exit 3). */
export class NotFoundError extends Pk3sError {
  constructor(message: string, options?: Pk3sErrorOptions) {
    super("E_NOT_FOUND", ExitCode.notFound, message, options);
  }
}

/** Schema, inputs, compatibility or dependency validation failed (exit 4). */
export class ValidationError extends Pk3sError {
  readonly problems: Problem[];
  constructor(message: string, problems: Problem[] = [], options?: Pk3sErrorOptions) {
    super("E_VALIDATION", ExitCode.validation, message, options);
    this.problems = problems;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), problems: this.problems };
  }
}

/** A required external tool (helm, tofu, ansible-playbook, kubectl) is missing (exit 5). */
export class MissingToolError extends Pk3sError {
  readonly tool: string;
  constructor(tool: string, message: string, options?: Pk3sErrorOptions) {
    super("E_MISSING_TOOL", ExitCode.missingTool, message, options);
    this.tool = tool;
  }
}

/**
 * Digest/checksum mismatch, or an archive that is hostile, corrupt or not a
 * package at all (exit 6). `entry` names the offending archive entry.
 */
export class IntegrityError extends Pk3sError {
  readonly entry: string | undefined;
  readonly reason: string;
  constructor(reason: string, message: string, options?: Pk3sErrorOptions & { entry?: string | undefined }) {
    super("E_INTEGRITY", ExitCode.integrity, message, options);
    this.reason = reason;
    this.entry = options?.entry;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason, ...(this.entry === undefined ? {} : { entry: this.entry }) };
  }
}

/** Another run holds the lock (exit 7). */
export class LockedError extends Pk3sError {
  readonly holder: LockHolder;
  constructor(message: string, holder: LockHolder, options?: Pk3sErrorOptions) {
    super("E_LOCKED", ExitCode.locked, message, options);
    this.holder = holder;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), holder: this.holder };
  }
}

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command?: string | undefined;
}

/** SIGINT/SIGTERM received (exit 130). */
export class InterruptedError extends Pk3sError {
  constructor(message = "interrupted", options?: Pk3sErrorOptions) {
    super("E_INTERRUPTED", ExitCode.interrupted, message, options);
  }
}

/** A Pk3sError from any copy of this module (see BRAND). */
export function isPk3sError(value: unknown): value is Pk3sError {
  return value instanceof Pk3sError || (typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true);
}

/** A ValidationError from any copy of this module: it carries its problems. */
export function isValidationError(value: unknown): value is ValidationError {
  return isPk3sError(value) && value.code === "E_VALIDATION" && Array.isArray((value as { problems?: unknown }).problems);
}

/** Render problems as `file:line:col: path: message` lines. */
export function formatProblem(p: Problem): string {
  let loc = p.file ?? "";
  if (p.line !== undefined) loc += `:${p.line}${p.column === undefined ? "" : `:${p.column}`}`;
  const where = [loc, p.path].filter((s) => s !== undefined && s !== "").join(": ");
  return `${p.severity}: ${where === "" ? "" : `${where}: `}${p.message}`;
}
