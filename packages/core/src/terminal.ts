/**
 * Asking the user: only when both stdin and stderr are terminals (prompts go
 * to stderr, stdout stays for results, `--json` included).
 */
import { createInterface } from "node:readline/promises";

export const isInteractive = (): boolean => process.stdin.isTTY === true && process.stderr.isTTY === true;

/**
 * A yes/no question on the terminal; anything but y/yes is no. The terminal
 * stays in line mode (no raw mode), so a line typed ahead for a script's
 * prompt is less likely to be taken here.
 */
export async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
