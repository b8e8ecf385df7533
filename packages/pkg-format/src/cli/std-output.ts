/**
 * stdout and stderr without Node's stream objects until something needs them.
 *
 * Creating process.stdout or process.stderr loads Node's streams stack: ~2-3 ms of every start (`pk3s --version`
 * against `node -e 0`, issue 19). Text from the CLI kit goes out with a synchronous write(2) on the descriptor,
 * which is what process.stdout/stderr do for files, pipes and terminals on Linux anyway, so output keeps its order.
 * Once a stream exists (a command wrote to process.stderr itself, a progress bar...), everything goes through it,
 * and so does what a descriptor cannot take at once (EAGAIN: a non-blocking descriptor shared with a parent), from
 * then on. A reader that went away (`| head`: EPIPE) ends the process with 141 on stdout and is ignored on stderr;
 * the same rule is attached to the streams as they are created, for code that writes to them directly.
 */
import { fstatSync, statSync, writeSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * The exit status when stdout's reader went away (`pk3s search | head -1`): 141, i.e. 128 + SIGPIPE, what the
 * shell reports for git, cat or any program a broken pipe ends (`set -o pipefail` users already expect it from
 * `| head`). Node ignores SIGPIPE, so the write fails with EPIPE instead, and an unhandled one would crash with
 * a stack trace: we exit quietly at once (nobody reads the rest). A broken stderr (logs only) is ignored: the
 * command finishes its work (an install is not stopped half-way because nobody reads its progress) and its exit
 * status says how it went.
 */
export const BROKEN_PIPE_EXIT = 141;

type StdName = "stdout" | "stderr";

/** EPIPE, or a stream already destroyed by one: nobody reads any more. */
export const readerGone = (err: NodeJS.ErrnoException | null | undefined): boolean =>
  err?.code === "EPIPE" || err?.code === "ERR_STREAM_DESTROYED";

const FD: Record<StdName, number> = { stdout: 1, stderr: 2 };

/** Per stream: whether Node's stream object exists (then it carries everything, and has the rule below attached). */
const streams: Record<StdName, { created: boolean }> = { stdout: { created: false }, stderr: { created: false } };

/** The broken-pipe rule, for a write of ours and for the streams alike: stdout exits 141, stderr goes on; other errors are thrown. */
function onWriteError(name: StdName, err: NodeJS.ErrnoException): void {
  if (!readerGone(err)) throw err;
  if (name === "stdout") process.exit(BROKEN_PIPE_EXIT);
}

let watching = false;
/**
 * Attach the broken-pipe rule to process.stdout and process.stderr when they are created, by whoever creates
 * them (Node defines both as configurable getters; anything else gets the rule at once, as before).
 */
export function watchStdStreams(): void {
  if (watching) return;
  watching = true;
  for (const name of ["stdout", "stderr"] as const) {
    const desc = Object.getOwnPropertyDescriptor(process, name);
    const get = desc?.get;
    const created = (stream: NodeJS.WriteStream): NodeJS.WriteStream => {
      if (!streams[name].created) {
        streams[name].created = true;
        stream.on("error", (err: NodeJS.ErrnoException) => onWriteError(name, err));
      }
      return stream;
    };
    if (get === undefined || desc?.configurable !== true) created(process[name]);
    else
      Object.defineProperty(process, name, {
        configurable: true,
        enumerable: desc?.enumerable ?? true,
        get: () => created(get.call(process)),
      });
  }
}

function writeStd(name: StdName, text: string): void {
  if (!streams[name].created) {
    const bytes = Buffer.from(text, "utf8");
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(FD[name], bytes, done, bytes.length - done);
      return;
    } catch (caught) {
      const err = caught as NodeJS.ErrnoException;
      if (readerGone(err)) {
        onWriteError(name, err);
        return;
      }
      // EAGAIN or anything unusual: the stream takes the rest, and everything after it.
      process[name].write(bytes.subarray(done));
      return;
    }
  }
  process[name].write(text);
}

export const writeStdout = (text: string): void => writeStd("stdout", text);
export const writeStderr = (text: string): void => writeStd("stderr", text);

/** Whether stdout's stream was created (only then can it hold output still to drain). */
export const stdoutStreamCreated = (): boolean => streams.stdout.created;

/** Answered once per stream: every coloured message asks (what a descriptor is does not change during a run). */
const terminal: Partial<Record<StdName, boolean>> = {};

/**
 * Whether stdout or stderr is a terminal (what process.stdout/stderr.isTTY says), without creating the stream and
 * without loading node:tty (which loads node:net and the streams) unless the descriptor is a character device other
 * than /dev/null: files, pipes, sockets and /dev/null are answered from fstat.
 */
export function isTerminal(name: StdName): boolean {
  terminal[name] ??= descriptorIsTerminal(FD[name]);
  return terminal[name];
}

function descriptorIsTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice() || st.rdev === statSync("/dev/null").rdev) return false;
  } catch {
    return false; // a closed descriptor is no terminal
  }
  const tty = createRequire(import.meta.url)("node:tty") as typeof import("node:tty");
  return tty.isatty(fd);
}
