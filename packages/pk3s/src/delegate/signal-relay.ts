/**
 * Signals while a runtime runs, delivered once.
 *
 * A terminal sends Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT) and a hang-up (SIGHUP)
 * to its whole foreground process group: the runtime, which pk3s starts in
 * its own group, already got the signal. Forwarding another made Core and
 * Infra see two interrupts, the second of which means "force quit" (for
 * OpenTofu: "two interrupts, state may be lost"). So, as uv and yarn do:
 *
 * - SIGINT, SIGQUIT, SIGHUP are forwarded only when they cannot have come
 *   from the terminal: pk3s is not in its terminal's foreground process
 *   group (no terminal, a background job, CI killing pk3s alone), or the
 *   runtime left pk3s's process group;
 * - SIGTERM, which terminals never send, is always forwarded, once.
 *
 * pk3s itself never dies of these signals while the runtime runs: it waits
 * for the runtime and exits with the runtime's code.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

const TERMINAL_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGQUIT", "SIGHUP"];
const RELAYED: readonly NodeJS.Signals[] = [...TERMINAL_SIGNALS, "SIGTERM"];

interface ProcStat {
  pgrp: number;
  ttyNr: number;
  tpgid: number;
}

/** Fields of /proc/<pid>/stat (Linux); undefined elsewhere. */
function procStat(pid: number | "self"): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid pgrp session tty_nr tpgid ..." — comm may hold spaces and parentheses.
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { pgrp: Number(f[2]), ttyNr: Number(f[4]), tpgid: Number(f[5]) };
  } catch {
    return undefined;
  }
}

/**
 * Whether a terminal signal just received also reached the runtime: pk3s is
 * in its terminal's foreground process group and the runtime is in pk3s's
 * group. Without /proc (macOS, BSD): a terminal on stdin is taken as the
 * sign (uv's heuristic).
 */
export function runtimeGotTerminalSignal(childPid: number | undefined): boolean {
  const self = procStat("self");
  if (self === undefined) return process.stdin.isTTY === true;
  if (self.ttyNr === 0 || self.tpgid !== self.pgrp) return false;
  const child = childPid === undefined ? undefined : procStat(childPid);
  return child === undefined || child.pgrp === self.pgrp;
}

/** Relay signals to `child` until the returned function is called (when it has exited). */
export function relaySignals(child: ChildProcess): () => void {
  const handlers = RELAYED.map((signal) => {
    const handler = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (TERMINAL_SIGNALS.includes(signal) && runtimeGotTerminalSignal(child.pid)) return;
      child.kill(signal);
    };
    process.on(signal, handler);
    return { signal, handler };
  });
  return () => {
    for (const { signal, handler } of handlers) process.off(signal, handler);
  };
}
