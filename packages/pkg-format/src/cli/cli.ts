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
import { ExitCode, formatProblem, isPk3sError, isValidationError, UsageError } from "../errors.js";
import { didYouMean } from "./did-you-mean.js";
import { BROKEN_PIPE_EXIT, isTerminal, readerGone, stdoutStreamCreated, watchStdStreams, writeStderr, writeStdout } from "./std-output.js";

export { type CommandEntry, registerCommands } from "./lazy-commands.js";
export { BROKEN_PIPE_EXIT } from "./std-output.js";

import { terminalBlock, terminalLine } from "./terminal-text.js";

export interface GlobalFlags {
  json?: boolean;
}

const useColor = (): boolean => isTerminal("stderr") && !process.env.NO_COLOR && process.env.TERM !== "dumb";

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
  writeStderr(`${message}\n`);
}
export function warn(message: string): void {
  writeStderr(`${yellow("warning:")} ${terminalBlock(message)}\n`);
}

/** Print a command's result: JSON on stdout with `--json`, otherwise the human text. */
export function emit(flags: GlobalFlags, result: unknown, human: () => string): void {
  if (flags.json === true) {
    writeStdout(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const text = human();
    if (text !== "") writeStdout(text.endsWith("\n") ? text : `${text}\n`);
  }
}

/**
 * Human rendering of any error: what failed, where, what to do next.
 * Messages often quote remote data (catalog fields, URLs, tool output): no
 * control character in them reaches the terminal (line breaks are kept).
 */
export function formatError(err: unknown): string {
  if (isPk3sError(err)) {
    const lines = [`${red("error:")} ${terminalBlock(err.message)}`];
    if (isValidationError(err)) {
      for (const p of err.problems) lines.push(`  ${terminalBlock(formatProblem(p))}`);
    }
    if (err.where !== undefined) lines.push(`  where: ${terminalLine(err.where)}`);
    if (err.hint !== undefined) lines.push(`  hint: ${terminalBlock(err.hint)}`);
    return lines.join("\n");
  }
  const message = terminalBlock(err instanceof Error ? err.message : String(err));
  const stack = process.env.PK3S_DEBUG === "1" && err instanceof Error && err.stack ? `\n${err.stack}` : "";
  return `${red("internal error:")} ${message}${stack}\n  hint: this is a bug; rerun with PK3S_DEBUG=1 and report it`;
}

function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

function isCommanderError(err: unknown): err is { code: string; exitCode: number; message: string } {
  return typeof err === "object" && err !== null && "code" in err && String((err as { code: unknown }).code).startsWith("commander.");
}

/** `pk3s addon install`: the full command path, for `where:` and `--help` hints. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** A commander parse error (unknown option, missing argument, ...) in the shared error format. */
function usageErrorFrom(message: string, cmd: Command | undefined): UsageError {
  const text = message
    .replace(/^error: /, "")
    .trim()
    .replace(/\s*\n\s*/g, " ")
    .replace(/\.$/, "");
  const where = cmd === undefined ? undefined : commandPath(cmd);
  return new UsageError(text, where === undefined ? {} : { where, hint: `see the usage and an example: ${where} --help` });
}

/**
 * Parse and run a commander program, mapping every outcome to an exit code.
 * Usage errors exit 2; typed errors exit with their own code; anything else
 * is an internal error (exit 1). Every failure is printed as `error:` +
 * `where:` + `hint:` on stderr and, with `--json`, as `{ok:false,error}` on stdout.
 */
export async function runCli(
  program: Command,
  argv: readonly string[] = process.argv,
  execArgv: readonly string[] = process.execArgv,
): Promise<never> {
  watchStdStreams();
  // Commander reports parse errors through outputError; keep the message and
  // the command it came from, and print it below in the one error format.
  let parseFailure: { message: string; cmd: Command } | undefined;
  for (const cmd of [program, ...allCommands(program)]) {
    cmd.exitOverride();
    const defaults = cmd.configureOutput();
    cmd.configureOutput({
      // Help and --version text without creating stdout's stream (std-output.ts); a terminal's width and colours
      // come from commander as before. Not a terminal: no width, and colours only when FORCE_COLOR/CLICOLOR_FORCE
      // ask for them (commander's rule, which then decides without looking at the stream).
      writeOut: writeStdout,
      // commander's own default returns undefined off a terminal too (its type says number).
      getOutHelpWidth: () => (isTerminal("stdout") ? defaults.getOutHelpWidth?.() : undefined) as number,
      getOutHasColors: () =>
        isTerminal("stdout") || process.env.FORCE_COLOR !== undefined || process.env.CLICOLOR_FORCE !== undefined
          ? (defaults.getOutHasColors?.() ?? false)
          : false,
      writeErr: writeStderr,
      outputError: (s) => {
        parseFailure = { message: s, cmd };
      },
    });
  }
  let code: number = ExitCode.ok;
  try {
    const tookEnvFile = nodeEnvFileError(program.name(), execArgv);
    if (tookEnvFile !== undefined) throw tookEnvFile;
    await program.parseAsync([...argv]);
  } catch (caught) {
    let err: unknown = caught;
    if (isCommanderError(caught)) {
      const benign = ["commander.helpDisplayed", "commander.version", "commander.help"];
      if (benign.includes(caught.code)) err = undefined;
      else if (caught.code === "commander.executeSubCommandAsync") {
        err = undefined;
        code = caught.exitCode;
      } else err = usageErrorFrom(parseFailure?.message ?? caught.message, parseFailure?.cmd);
    }
    if (err !== undefined) {
      code = isPk3sError(err) ? err.exitCode : ExitCode.failed;
      writeStderr(`${formatError(err)}\n`);
      if (wantsJson(argv)) {
        const error = isPk3sError(err)
          ? err.toJSON()
          : { code: "E_INTERNAL", exitCode: 1, message: err instanceof Error ? err.message : String(err) };
        writeStdout(`${JSON.stringify({ ok: false, error }, null, 2)}\n`);
      }
    }
  }
  if (stdoutStreamCreated()) {
    // Let stdout drain before exiting so piped JSON is never cut short.
    await new Promise<void>((resolve) => (process.stdout.writableNeedDrain ? process.stdout.once("drain", resolve) : resolve()));
    // A write that failed just now reports its error on the next tick, after this exit: look at it here.
    if (readerGone(process.stdout.errored)) process.exit(BROKEN_PIPE_EXIT);
  }
  process.exit(process.exitCode !== undefined && code === 0 ? Number(process.exitCode) : code);
}

/**
 * `node --env-file F <bin> ...`: Node read F itself (its option, placed before
 * the script), so the command never sees it and F's values, secrets included,
 * are now this process's environment. Refused (exit 2) rather than run on
 * inputs the user did not mean to give it. (A `--env-file` after the script
 * is ours: Node 20+ leaves it in argv, but exits 9 before we run when the
 * file is missing; `node -- <file>` and the installed bins avoid that.)
 */
export function nodeEnvFileError(bin: string, execArgv: readonly string[]): UsageError | undefined {
  const i = execArgv.findIndex((a) => /^--env-file(-if-exists)?(=|$)/.test(a));
  if (i === -1) return undefined;
  const flag = execArgv[i] ?? "--env-file";
  const file = flag.includes("=") ? flag.slice(flag.indexOf("=") + 1) : (execArgv[i + 1] ?? "");
  return new UsageError(`Node took ${flag.split("=")[0]} ${file} as its own option, so ${bin} never saw it`, {
    where: "node command line",
    hint:
      `run the installed bin (${bin} ... --env-file ${file}), or put "--" between node and the file: ` +
      `node -- <path to ${bin}.js> ... --env-file ${file}`,
  });
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

/**
 * The one description of each flag that several commands (and binaries)
 * share: the same flag means the same thing everywhere. Commands that need a
 * different wording for a flag use a different flag.
 */
export const FLAG_HELP = {
  json: "print the result as one JSON document on stdout (a failure too: {ok:false,error})",
  kubeconfig: "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)",
  context: "kubeconfig context (default: its current-context)",
  timeout: "timeout for Helm and for each script, as a duration: 90s, 10m, 1h30m",
  envFile: "local env file (KEY=VALUE data, never executed; local-override inputs come from here); repeatable, later files win",
  inputSet: "set one input KEY=VALUE (wins over env files); repeatable",
  instance: "productive-k3s-infra instance name (default: the profile's name)",
  autoApprove: "do not ask for confirmation (required without a terminal)",
  yes: "alias of --auto-approve",
  breakLock: "take over the lock of a run that is no longer alive (a stale lock)",
  strict: "treat unknown manifest fields as errors",
  verifyKey:
    "verify each package's minisign signature (<file>.minisig beside it) with this public key (a key file or its RW... line) " +
    "before anything runs; repeatable: any of the keys may have signed",
  stateBackend:
    "where records and locks live: local (the default) or postgres://USER@HOST[:PORT]/DB (team state); default: $PK3S_STATE_BACKEND. " +
    "A password on the command line is visible to other users of this machine: prefer the variable or PGPASSWORD",
} as const;

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parse a `--timeout` style duration: Go syntax (`90s`, `10m`, `1h30m`,
 * `500ms`) or a bare number of seconds. Returns milliseconds; throws a
 * UsageError naming the flag otherwise. Usable as a commander argParser.
 */
export function parseDurationMs(value: string, flag = "--timeout"): number {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed) && Number(trimmed) > 0) return Number(trimmed) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let ms = 0;
  let consumed = 0;
  for (let m = re.exec(trimmed); m !== null; m = re.exec(trimmed)) {
    ms += Number(m[1]) * (DURATION_UNIT_MS[m[2] ?? "s"] ?? 1000);
    consumed = re.lastIndex;
  }
  if (trimmed === "" || consumed !== trimmed.length || ms <= 0) {
    throw new UsageError(`invalid ${flag} "${value}": expected a duration such as 90s, 10m or 1h30m`, {
      where: flag,
      hint: "use a number with a unit (ms, s, m, h), e.g. 10m",
    });
  }
  return Math.round(ms);
}

/** Commander argParser for `--timeout`: validates at parse time, keeps the text (Helm gets it verbatim). */
export function durationOption(value: string): string {
  parseDurationMs(value);
  return value.trim();
}

/** A word that is not one of the program's commands, with a suggestion when one is close (`pk3s serach`). */
export function unknownCommandError(program: Command, word: string): UsageError {
  const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  return new UsageError(`unknown command '${word}'${didYouMean(word, names)}`, {
    where: program.name(),
    hint: `the commands are: ${program.commands.map((c) => c.name()).join(", ")}; see ${program.name()} --help`,
  });
}

/**
 * The root of a runtime binary: `-V, --version` (with `--json`: `{ok, name, version}`),
 * help when run without a command, and the shared error for an unknown command.
 * Root options are positional (only before the subcommand), so a subcommand's own
 * `--json` is never taken by the root.
 */
export function withRootOptions(program: Command, version: string): Command {
  return program
    .enablePositionalOptions()
    .option("-V, --version", "print the version")
    .option("--json", FLAG_HELP.json)
    .allowExcessArguments()
    .action((o: { version?: boolean; json?: boolean }, cmd: Command) => {
      const [unknown] = cmd.args;
      if (unknown !== undefined) throw unknownCommandError(program, unknown);
      if (o.version !== true) {
        program.help();
        return;
      }
      emit(o, { ok: true, name: program.name(), version }, () => version);
    });
}

/** The package options a `--verify-key` covers: the package and the dependency packages handed over with it. */
const PACKAGE_OPTIONS = ["--tgz", "--dependency-tgz"];

/**
 * `--verify-key KEY` on every command of `program` that takes a package file: before the command's action, each
 * package given (`--tgz`, `--dependency-tgz`) must carry a `.minisig` beside it that verifies with one of the
 * keys, else exit 6 and nothing runs. Call once, after all commands are registered.
 */
export function withPackageSignatureCheck(program: Command): Command {
  for (const cmd of allCommands(program)) {
    if (cmd.options.some((o) => o.long !== undefined && PACKAGE_OPTIONS.includes(o.long))) {
      cmd.option("--verify-key <key>", FLAG_HELP.verifyKey, collect, []);
    }
  }
  return program.hook("preAction", async (_root, action) => {
    const opts = action.opts<{ verifyKey?: string[]; tgz?: string; dependencyTgz?: string[] }>();
    if (opts.verifyKey === undefined || opts.verifyKey.length === 0) return;
    const files = [...(opts.dependencyTgz ?? []), ...(opts.tgz === undefined ? [] : [opts.tgz])];
    if (files.length === 0)
      throw new UsageError("--verify-key needs a package to verify: pass --tgz <file>", { where: commandPath(action) });
    const { readPublicKeys, verifySignedFile } = await import("../trust/minisign.js");
    const keys = await readPublicKeys(opts.verifyKey, "--verify-key");
    for (const file of files) {
      const verified = await verifySignedFile(file, keys);
      log(terminalLine(`verified ${file}: signed by key ${verified.key.id} (${verified.trustedComment})`));
    }
  });
}
