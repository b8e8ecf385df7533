/**
 * Running helm for the chart commands (template, lint, pull): no cluster, output captured. A call that
 * does not finish is interrupted (exit 130) or timed out (exit 1); helm rejecting its input says
 * `Error: …` and exits 1, which the caller turns into a located problem; anything else is helm failing.
 */
import { InterruptedError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { type RunResult, runProcess } from "@productive-k3s/pkg-format/process";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";

export interface HelmRunOptions {
  cwd?: string | undefined;
  timeoutMs: number;
  maxCapture?: number | undefined;
}

/** The finished call (any exit code), or the interruption or timeout thrown. `what` names it in messages. */
export async function runHelm(helm: string, args: string[], what: string, options: HelmRunOptions): Promise<RunResult> {
  const result = await runProcess(helm, args, {
    cwd: options.cwd,
    timeoutMs: options.timeoutMs,
    toolName: "helm",
    maxCapture: options.maxCapture,
  });
  if (result.interrupted) throw new InterruptedError(`interrupted during ${what}`);
  if (result.timedOut) throw new StepFailedError(`${what} timed out after ${Math.round(options.timeoutMs / 1000)}s`);
  return result;
}

/**
 * After a non-zero exit: returns when helm rejected its input (`Error: …`, exit 1), for the caller to
 * report; otherwise (a helm that cannot start, a crash, a signal) throws the tool's failure (exit 1).
 */
export function throwToolFailure(result: RunResult, what: string): void {
  if (result.exitCode === 1 && /^Error: /m.test(result.stderr)) return;
  const last = result.stderr.trim().split("\n").pop() ?? "";
  const how = result.exitCode === null ? `was killed by ${result.signal ?? "a signal"}` : `failed (exit ${result.exitCode})`;
  throw new StepFailedError(`${what} ${how}${last === "" ? "" : `: ${terminalLine(last)}`}`);
}

/** helm's `Error: …` lines as one terminal-safe line. */
export function helmErrorText(stderr: string): string {
  return terminalLine(
    stderr
      .split("\n")
      .filter((l) => !/^Use --debug flag/.test(l))
      .map((l) => l.replace(/^Error: /, "").trim())
      .filter((l) => l !== "")
      .join(" "),
  );
}
