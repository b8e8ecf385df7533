/**
 * Running a runtime: stdio inherited (or stdout captured for `--json`
 * aggregation and status queries), signals relayed once (`signal-relay.ts`),
 * and the runtime's exit code handed back verbatim.
 */
import { spawn } from "node:child_process";
import { MissingToolError } from "@productive-k3s/pkg-format/errors";
import type { RuntimeCommand } from "./runtime-bin.js";
import { relaySignals } from "./signal-relay.js";

export interface RunRuntimeOptions {
  /** Capture stdout instead of inheriting it (stderr is always inherited). */
  captureStdout?: boolean;
  /** Capture stderr too (quiet probes such as `--version`). */
  captureStderr?: boolean;
  timeoutMs?: number;
}

export interface RuntimeResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

export function runRuntime(runtime: RuntimeCommand, args: readonly string[], options: RunRuntimeOptions = {}): Promise<RuntimeResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(runtime.command, [...runtime.prefixArgs, ...args], {
      stdio: ["inherit", options.captureStdout ? "pipe" : "inherit", options.captureStderr ? "pipe" : "inherit"],
      timeout: options.timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const cleanup = relaySignals(child);
    child.on("error", (err: NodeJS.ErrnoException) => {
      cleanup();
      if (err.code === "ENOENT" || err.code === "EACCES") {
        reject(
          new MissingToolError(runtime.binName, `cannot run ${runtime.binName} at ${runtime.path}: ${err.code}`, { where: runtime.path }),
        );
      } else reject(err);
    });
    child.on("close", (code, signal) => {
      cleanup();
      // A runtime killed by a signal (not exiting with its own code): 130 for an interrupt, as the runtimes do.
      const exitCode = code ?? (signal === "SIGINT" || signal === "SIGTERM" || signal === "SIGHUP" || signal === "SIGQUIT" ? 130 : 1);
      resolvePromise({ exitCode, stdout, stderr, signal });
    });
  });
}
