// A runtime in miniature, for the signal tests: a private temp dir (removed on every exit path,
// through onInterrupt when the process exits on a signal), one tool run through the built runner,
// exit 130 when the run was interrupted. argv: <tool> ; env: DRIVER_TMP (parent of the temp dir),
// DRIVER_GRACE_MS (kill grace).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { onInterrupt, runProcess } from "../../dist/host/process.js";

const tmp = mkdtempSync(join(process.env.DRIVER_TMP, "driver-"));
writeFileSync(join(tmp, "scratch"), "temporary\n");
const off = onInterrupt(() => rmSync(tmp, { recursive: true, force: true }));
try {
  const result = await runProcess(process.argv[2], [], { killGraceMs: Number(process.env.DRIVER_GRACE_MS ?? 10000) });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (result.interrupted) process.exitCode = 130;
} finally {
  off();
  rmSync(tmp, { recursive: true, force: true });
}
