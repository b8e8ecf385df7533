// One of many concurrent takers of a stale lock (lock-takeover test), on the built lock module.
// argv: <lock file> <release file>. Prints "won" and holds the lock until <release file> exists
// (at most 30 s), or prints the error code and exits with its exit code.
import { existsSync } from "node:fs";
import { acquireLock } from "../../dist/host/lock.js";

const [file, releaseFile] = process.argv.slice(2);
try {
  const lock = await acquireLock(file, { breakLock: true, command: `taker ${process.pid}` });
  process.stdout.write("won\n");
  const deadline = Date.now() + 30_000;
  while (!existsSync(releaseFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await lock.release();
} catch (err) {
  process.stdout.write(`${err.code ?? "error"}: ${err.message}\n`);
  process.exitCode = err.exitCode ?? 1;
}
