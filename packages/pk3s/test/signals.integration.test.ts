/**
 * One Ctrl-C reaches the runtime once (issue 11, item 4). A terminal sends
 * SIGINT to its whole foreground process group, runtime included; pk3s used
 * to forward another, which the runtimes take as "force quit". pk3s runs
 * here under a real pseudo-terminal (util-linux `script`), delegating to a
 * stub runtime that records every signal it gets.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pkg, writeLocalCatalog } from "./helpers/catalogs.js";
import { PK3S_BIN, type Sandbox, sandbox } from "./helpers/cli.js";

/** Records each signal; exits 130 once no signal has come for 600 ms (so a duplicate would be seen), 2 after 30 s. */
const COUNTING_RUNTIME = `
const fs = require("node:fs");
let quiet;
for (const s of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"]) {
  process.on(s, () => {
    fs.appendFileSync(process.env.SIG_LOG, s + "\\n");
    clearTimeout(quiet);
    quiet = setTimeout(() => process.exit(130), 600);
  });
}
fs.writeFileSync(process.env.SIG_READY + ".tmp", JSON.stringify({ pid: process.pid, ppid: process.ppid }));
fs.renameSync(process.env.SIG_READY + ".tmp", process.env.SIG_READY);
setTimeout(() => process.exit(2), 30000); // bounded even if nobody signals it
`;

const hasScript = existsSync("/usr/bin/script") || existsSync("/bin/script");

let sb: Sandbox;
let env: Record<string, string>;
let sigLog: string;
let ready: string;
let running: ChildProcess | undefined;

beforeEach(() => {
  sb = sandbox();
  const bin = join(sb.root, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "runtime.cjs"), COUNTING_RUNTIME);
  const infra = join(bin, "productive-k3s-infra");
  writeFileSync(infra, `#!/bin/sh\nexec "${process.execPath}" "${join(bin, "runtime.cjs")}" "$@"\n`);
  chmodSync(infra, 0o755);
  sigLog = join(sb.root, "signals.log");
  ready = join(sb.root, "ready.json");
  const index = writeLocalCatalog(join(sb.root, "catalog"), [pkg("lab-cluster", "1.0.0", { type: "profile" })]);
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/PROXY|^PK3S_/i.test(k)) base[k] = v;
  env = { ...base, ...sb.env, PK3S_DEFAULT_CATALOG: index, PK3S_INFRA_BIN: infra, SIG_LOG: sigLog, SIG_READY: ready, SHELL: "/bin/sh" };
});
afterEach(async () => {
  // A failed test may leave pk3s or the runtime behind: stop exactly those (their pids are in the ready file).
  const pids = existsSync(ready) ? Object.values(JSON.parse(readFileSync(ready, "utf8")) as Record<string, number>) : [];
  for (const pid of pids) {
    try {
      // Only if that pid is still one of ours (never a reused pid of someone else's process).
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes(sb.root) || cmdline.includes(PK3S_BIN)) process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (running !== undefined && running.exitCode === null && running.signalCode === null) {
    running.kill("SIGKILL");
    await exited(running);
  }
  running = undefined;
  sb.cleanup();
});

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const readyInfo = (): Promise<{ pid: number; ppid: number }> =>
  waitFor("the runtime to start", () =>
    existsSync(ready) ? (JSON.parse(readFileSync(ready, "utf8")) as { pid: number; ppid: number }) : undefined,
  );

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });

const signalsSeen = (): string[] =>
  existsSync(sigLog)
    ? readFileSync(sigLog, "utf8")
        .split("\n")
        .filter((l) => l !== "")
    : [];

const pgrpOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
};

const PLAN = ["profile", "plan", "lab-cluster"];

/** pk3s in the foreground of a pseudo-terminal; the test types into it. */
function inTerminal(args: string[]): ChildProcess {
  const command = [process.execPath, "--", PK3S_BIN, ...args].map((a) => `'${a}'`).join(" ");
  running = spawn("script", ["-qfec", command, "/dev/null"], { env, stdio: ["pipe", "ignore", "ignore"] });
  return running;
}

/** pk3s with no terminal at all (CI, a service). */
function withoutTerminal(args: string[]): ChildProcess {
  running = spawn(process.execPath, ["--", PK3S_BIN, ...args], { env, stdio: ["ignore", "ignore", "ignore"] });
  return running;
}

describe.skipIf(!hasScript)("in a terminal", () => {
  it("Ctrl-C reaches the runtime exactly once, and pk3s exits with the runtime's 130", { timeout: 60_000 }, async () => {
    const term = inTerminal(PLAN);
    await readyInfo();
    term.stdin?.write("\u0003"); // the terminal driver turns it into SIGINT for the foreground process group
    expect(await exited(term)).toBe(130);
    expect(signalsSeen()).toEqual(["SIGINT"]);
  });

  it("a SIGINT to the foreground process group (what the terminal does) reaches the runtime once", { timeout: 60_000 }, async () => {
    const term = inTerminal(PLAN);
    const { ppid: pk3s } = await readyInfo();
    process.kill(-pgrpOf(pk3s), "SIGINT");
    expect(await exited(term)).toBe(130);
    expect(signalsSeen()).toEqual(["SIGINT"]);
  });

  it("a SIGTERM sent to pk3s alone is forwarded once", { timeout: 60_000 }, async () => {
    const term = inTerminal(PLAN);
    const { ppid: pk3s } = await readyInfo();
    process.kill(pk3s, "SIGTERM");
    expect(await exited(term)).toBe(130);
    expect(signalsSeen()).toEqual(["SIGTERM"]);
  });
});

describe("without a terminal", () => {
  it.each(["SIGINT", "SIGHUP", "SIGTERM"] as const)("%s sent to pk3s alone is forwarded once", { timeout: 60_000 }, async (signal) => {
    const child = withoutTerminal(PLAN);
    const { ppid: pk3s } = await readyInfo();
    expect(pk3s).toBe(child.pid);
    process.kill(pk3s, signal);
    expect(await exited(child)).toBe(130);
    expect(signalsSeen()).toEqual([signal]);
  });
});
