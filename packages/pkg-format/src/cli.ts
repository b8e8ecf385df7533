/**
 * Command-line plumbing shared by `pk3s`, `productive-k3s-core` and
 * `productive-k3s-infra`: one error format, one exit-code mapping, one
 * `--json` convention. Command files stay thin: they parse flags, call an
 * operation module and hand its result to `emit`.
 *
 * Conventions (DESIGN.md §4):
 * - results go to stdout (JSON with `--json`, text otherwise);
 * - logs, progress and errors go to stderr;
 * - with `--json`, a failure also prints `{"ok":false,"error":{...}}` on stdout
 *   so scripts always get one JSON document;
 * - colour only when stderr is a TTY and NO_COLOR is unset.
 */
import type { Command } from "commander";
import { ExitCode, formatProblem, isPk3sError, ValidationError } from "./errors.js";

export interface GlobalFlags {
  json?: boolean;
}

const useColor = (): boolean => process.stderr.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";

const paint =
  (code: number) =>
  (s: string): string =>
    useColor() ? `\u001b[${code}m${s}\u001b[0m` : s;
export const red = paint(31);
export const yellow = paint(33);
export const green = paint(32);
export const dim = paint(2);
export const bold = paint(1);

/** Write a log line to stderr (never stdout: stdout is for results). */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}
export function warn(message: string): void {
  process.stderr.write(`${yellow("warning:")} ${message}\n`);
}

/** Print a command's result: JSON on stdout with `--json`, otherwise the human text. */
export function emit(flags: GlobalFlags, result: unknown, human: () => string): void {
  if (flags.json === true) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const text = human();
    if (text !== "") process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }
}

/** Human rendering of any error: what failed, where, what to do next. */
export function formatError(err: unknown): string {
  if (isPk3sError(err)) {
    const lines = [`${red("error:")} ${err.message}`];
    if (err instanceof ValidationError) {
      for (const p of err.problems) lines.push(`  ${formatProblem(p)}`);
    }
    if (err.where !== undefined) lines.push(`  where: ${err.where}`);
    if (err.hint !== undefined) lines.push(`  hint: ${err.hint}`);
    return lines.join("\n");
  }
  const message = err instanceof Error ? err.message : String(err);
  const stack = process.env.PK3S_DEBUG === "1" && err instanceof Error && err.stack ? `\n${err.stack}` : "";
  return `${red("internal error:")} ${message}${stack}\n  hint: this is a bug; rerun with PK3S_DEBUG=1 and report it`;
}

function wantsJson(argv: readonly string[]): boolean {
  return argv.includes("--json");
}

function isCommanderError(err: unknown): err is { code: string; exitCode: number; message: string } {
  return typeof err === "object" && err !== null && "code" in err && String((err as { code: unknown }).code).startsWith("commander.");
}

/**
 * Parse and run a commander program, mapping every outcome to an exit code.
 * Usage errors exit 2; typed errors exit with their own code; anything else
 * is an internal error (exit 1).
 */
export async function runCli(program: Command, argv: readonly string[] = process.argv): Promise<never> {
  program.exitOverride();
  program.configureOutput({
    writeErr: (s) => process.stderr.write(s),
    outputError: (s, write) => write(`${red("error:")} ${s.replace(/^error: /, "")}`),
  });
  for (const cmd of allCommands(program)) cmd.exitOverride();
  let code: number = ExitCode.ok;
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (isCommanderError(err)) {
      const benign = ["commander.helpDisplayed", "commander.version", "commander.help"];
      code = benign.includes(err.code) ? ExitCode.ok : ExitCode.usage;
      if (err.code === "commander.executeSubCommandAsync") code = err.exitCode;
    } else {
      code = isPk3sError(err) ? err.exitCode : ExitCode.failed;
      process.stderr.write(`${formatError(err)}\n`);
      if (wantsJson(argv)) {
        const error = isPk3sError(err)
          ? err.toJSON()
          : { code: "E_INTERNAL", exitCode: 1, message: err instanceof Error ? err.message : String(err) };
        process.stdout.write(`${JSON.stringify({ ok: false, error }, null, 2)}\n`);
      }
    }
  }
  // Let stdout drain before exiting so piped JSON is never cut short.
  await new Promise<void>((resolve) => (process.stdout.writableNeedDrain ? process.stdout.once("drain", resolve) : resolve()));
  process.exit(process.exitCode !== undefined && code === 0 ? Number(process.exitCode) : code);
}

function* allCommands(cmd: Command): Generator<Command> {
  for (const sub of cmd.commands) {
    yield sub;
    yield* allCommands(sub);
  }
}

/** Collect a repeatable option (`-f a -f b`) into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
