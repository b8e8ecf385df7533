/**
 * The interrupt rule of every runtime (process.ts's header says it in full): the first SIGINT/SIGTERM goes to
 * the running children's process groups, which get a grace period; with no child running, or on a later second
 * signal ("force quit"), the `onInterrupt` handlers run and the process exits 130. A repeat within
 * DUPLICATE_SIGNAL_WINDOW_MS is the same Ctrl-C delivered twice and is ignored.
 *
 * Its own module, without node:child_process, so that code which only cleans up on an interrupt (the extractor,
 * the packer, validation) does not load the process-spawning machinery: loading child_process (with net, dgram
 * and the stream modules) cost ~10 ms of a `core addon validate` (measured with --cpu-prof).
 *
 * The state is kept on globalThis: a bundled runtime may hold this module twice (its CommonJS main file inlines
 * small lazily imported modules, its chunks hold another copy: scripts/bundle-cli.mjs), and two copies must not
 * each install signal handlers and keep their own list of children (one would exit while the other's child runs).
 */
import { ExitCode } from "../errors.js";

export interface RunningChild {
  readonly pgid: number;
  /** Forward an interrupt (the signal we received) and start the grace period. */
  interrupt(signal: NodeJS.Signals): void;
}

/** A repeat of the interrupt signal this soon after the first is a duplicate delivery, not "force quit". */
export const DUPLICATE_SIGNAL_WINDOW_MS = 1000;

interface InterruptState {
  readonly running: Set<RunningChild>;
  readonly handlers: Set<() => void>;
  interruptedBy: { signal: NodeJS.Signals; at: number } | undefined;
  signalsInstalled: boolean;
}

const STATE = Symbol.for("@productive-k3s/pkg-format/interrupts");
const shared = globalThis as { [STATE]?: InterruptState };
shared[STATE] ??= { running: new Set(), handlers: new Set(), interruptedBy: undefined, signalsInstalled: false };
const state: InterruptState = shared[STATE];

/** Signal a child's whole process group (a group that is already gone is not an error). */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // group already gone
  }
}

function exitInterrupted(): never {
  for (const child of state.running) killGroup(child.pgid, "SIGKILL");
  for (const handler of state.handlers) {
    try {
      handler();
    } catch {
      // best effort: we are exiting
    }
  }
  process.exit(ExitCode.interrupted);
}

function onSignal(signal: NodeJS.Signals): void {
  const now = Date.now();
  if (state.interruptedBy !== undefined) {
    if (now - state.interruptedBy.at < DUPLICATE_SIGNAL_WINDOW_MS) return;
    exitInterrupted();
  }
  state.interruptedBy = { signal, at: now };
  if (state.running.size === 0) exitInterrupted();
  for (const child of state.running) child.interrupt(signal);
}

export function installSignalHandlers(): void {
  if (state.signalsInstalled) return;
  state.signalsInstalled = true;
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/** True once SIGINT/SIGTERM was received while a child ran. */
export function isInterrupted(): boolean {
  return state.interruptedBy !== undefined;
}

/** The signal received, if any (what a child started after it must be sent too). */
export function interruptSignal(): NodeJS.Signals | undefined {
  return state.interruptedBy?.signal;
}

/**
 * A child now running: interrupts are forwarded to it (at once, when one already arrived). Returns the call that
 * forgets it once it has exited.
 */
export function trackChild(child: RunningChild): () => void {
  state.running.add(child);
  if (state.interruptedBy !== undefined) child.interrupt(state.interruptedBy.signal);
  return () => state.running.delete(child);
}

/**
 * Run `fn` (synchronously) when the process exits because of an interrupt:
 * one that arrives while no child runs, or a "force quit" second Ctrl-C.
 */
export function onInterrupt(fn: () => void): () => void {
  installSignalHandlers();
  state.handlers.add(fn);
  return () => state.handlers.delete(fn);
}
