/** Every command documents itself with an example; usage errors are exit 2, with a suggestion when one is close; colour only on a terminal. */
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PK3S_BIN, sandbox } from "./helpers/cli.js";

const sb = sandbox();
afterAll(() => sb.cleanup());

const COMMANDS = [
  [],
  ["catalog"],
  ["catalog", "add"],
  ["catalog", "list"],
  ["catalog", "remove"],
  ["catalog", "update"],
  ["catalog", "index"],
  ["catalog", "prune"],
  ["search"],
  ["addon"],
  ["addon", "show"],
  ["addon", "pull"],
  ["addon", "install"],
  ["addon", "validate"],
  ...["list", "status", "uninstall", "upgrade"].map((v) => ["addon", v]),
  ["profile"],
  ...["show", "pull", "validate", "plan", "install", "status", "outputs", "destroy", "list"].map((v) => ["profile", v]),
  ["stack"],
  ...["show", "plan", "install", "status", "diff", "uninstall"].map((v) => ["stack", v]),
  ["lock"],
];

describe("--help", () => {
  it.each(COMMANDS.map((c) => [c.join(" ") || "pk3s", c]))("%s has an Example", async (_label, cmd) => {
    const r = await sb.run([...(cmd as string[]), "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Example:");
  });
});

describe("usage errors", () => {
  it.each([
    [["addon", "install"]],
    [["search", "--type", "chart"]],
    [["stack", "plan"]],
    [["stack", "install", "x", "--instance", "a", "--kubeconfig", "k"]],
    [["lock", "--frozen", "--update"]],
    [["addon", "install", "x", "--instance", "a", "--kubeconfig", "k"]],
    [["catalog", "prune", "dir"]],
  ])("%j exits 2", async (args) => {
    const r = await sb.run(args);
    expect(r.code).toBe(2);
  });
});

describe("did you mean", () => {
  it.each([
    [["serach"], "unknown command 'serach' (Did you mean search?)"],
    [["catalgo", "list"], "unknown command 'catalgo' (Did you mean catalog?)"],
    [["addon", "instal", "x"], "unknown command 'instal' (Did you mean install?)"],
  ])("%j suggests the command (exit 2)", async (args, message) => {
    const r = await sb.run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${message}`);
  });

  it("says nothing when no command is close", async () => {
    const r = await sb.run(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'frobnicate'\n");
  });
});

describe("node <file> and Node's own --env-file", () => {
  it("refuses to run when Node took --env-file itself (it came before the file): the user is told how to run it", async () => {
    const envFile = join(sb.root, "lab.env");
    writeFileSync(envFile, "LAB_DIR=./lab\n");
    for (const flag of [["--env-file", envFile], [`--env-file=${envFile}`]]) {
      const r = spawnSync(process.execPath, [...flag, PK3S_BIN, "profile", "install", "local-lab", "--json"], {
        encoding: "utf8",
        env: { ...process.env, ...sb.env },
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`error: Node took --env-file ${envFile} as its own option, so pk3s never saw it`);
      expect(r.stderr).toContain(
        `hint: run the installed bin (pk3s ... --env-file ${envFile}), or put "--" between node and the file: node -- <path to pk3s.js> ... --env-file ${envFile}`,
      );
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { exitCode: 2 } });
    }
  });

  it("after the file (and after --), --env-file is ours", async () => {
    const r = spawnSync(process.execPath, ["--", PK3S_BIN, "profile", "validate", "x", "--env-file", join(sb.root, "none.env")], {
      encoding: "utf8",
      env: { ...process.env, ...sb.env },
    });
    expect(r.stderr).not.toContain("node: ");
    expect(r.status).toBe(3);
  });
});

describe("colour", () => {
  const hasScript = existsSync("/usr/bin/script");
  const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  const onTty = (extra: Record<string, string>): string => {
    const { NO_COLOR: _, ...base } = process.env;
    return spawnSync("script", ["-qec", [process.execPath, "--", PK3S_BIN, "serach"].map(quote).join(" "), "/dev/null"], {
      encoding: "utf8",
      env: { ...base, ...sb.env, TERM: "xterm", ...extra },
      timeout: 30_000,
    }).stdout;
  };

  it("never when stderr is a file or a pipe (CI logs), even with TERM set", async () => {
    const r = await sb.run(["serach"], { TERM: "xterm-256color" });
    expect(r.stderr).toContain("error: unknown command");
    expect(r.stderr).not.toContain("\u001b");
  });

  it.runIf(hasScript)("on a terminal, unless NO_COLOR is set", () => {
    expect(onTty({})).toContain("\u001b[31merror:\u001b[0m");
    const plain = onTty({ NO_COLOR: "1" });
    expect(plain).toContain("error: unknown command 'serach'");
    expect(plain).not.toContain("\u001b");
  });
});
