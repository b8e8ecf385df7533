/**
 * A Core command run as it is (the installed add-on's lifecycle): stdio
 * inherited, signals forwarded, its exit code handed back.
 */
import { runRuntime } from "../delegate/delegate.js";
import { requireRuntime } from "../delegate/runtime-bin.js";

export async function runCoreCommand(coreBin: string | undefined, args: string[]): Promise<{ exitCode: number }> {
  const core = requireRuntime("core", coreBin);
  const res = await runRuntime(core, args);
  return { exitCode: res.exitCode };
}
