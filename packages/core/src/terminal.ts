/**
 * Asking the user: only when both stdin and stderr are terminals (prompts go
 * to stderr, stdout stays for results, `--json` included).
 */
import { createInterface } from "node:readline/promises";

export const isInteractive = (): boolean => process.stdin.isTTY === true && process.stderr.isTTY === true;

/** A yes/no question on the terminal; anything but y/yes is no. */
export async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
