/**
 * Private temporary directories (0700, from mkdtemp) that never outlive the
 * command, whatever way it ends: normal return, error, a tool that could not
 * be started, a timeout, a first Ctrl-C (the step returns interrupted and the
 * error unwinds), and a second Ctrl-C or SIGTERM, where the process runner
 * calls `process.exit(130)` at once and no `finally` runs — the `exit` hook
 * removes the directory synchronously then. Only SIGKILL (or a crash of Node
 * itself) can leave one behind.
 *
 * They hold what must not stay on disk: the Ansible extra-vars file (inputs,
 * sensitive ones included), outputs files (sensitive outputs), extractions.
 */
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pending = new Set<string>();
let hooked = false;

function removeAllNow(): void {
  for (const dir of pending) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // exiting anyway
    }
  }
  pending.clear();
}

/** Remove `dir` (synchronously) if the process exits before the returned function is called. */
export function removeOnExit(dir: string): () => void {
  if (!hooked) {
    hooked = true;
    process.on("exit", removeAllNow);
  }
  pending.add(dir);
  return () => pending.delete(dir);
}

/** Run `fn` with a fresh private temp dir, removed on every exit path (see above). */
export async function withPrivateTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const forget = removeOnExit(dir);
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
    forget();
  }
}
