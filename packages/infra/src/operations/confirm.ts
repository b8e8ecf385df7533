/**
 * Confirmation before changing infrastructure: asked on a terminal
 * ("Apply? [y/N]"); without a terminal, `--auto-approve` (alias `--yes`) is
 * required and its absence is a usage error (exit 2) raised before anything runs.
 */
import { StepFailedError, UsageError } from "@productive-k3s/pkg-format/errors";

export class ApprovalDeclinedError extends StepFailedError {}

export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

export function assertApprovalPossible(autoApprove: boolean, what: string): void {
  if (autoApprove || canPrompt()) return;
  throw new UsageError(`${what} needs confirmation, and there is no terminal to ask on`, {
    hint: "pass --auto-approve (or --yes) to proceed without a prompt",
  });
}

export async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

export async function approveOrThrow(autoApprove: boolean, question: string, what: string): Promise<void> {
  if (autoApprove) return;
  if (!(await confirm(question))) throw new ApprovalDeclinedError(`${what} cancelled: not confirmed`, { hint: "nothing was changed" });
}
