/**
 * `pk3s completion bash|zsh`: the generated scripts are sourced in a real shell and
 * their completion function is driven the way the shell does (bash: COMP_WORDS /
 * COMP_CWORD; zsh: words / CURRENT with the completion builtins stubbed).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PK3S_BIN, type Sandbox, sandbox } from "./helpers/cli.js";

let sb: Sandbox;
let bashScript: string;
let zshScript: string;
let env: NodeJS.ProcessEnv;

const hasZsh = spawnSync("zsh", ["-c", "true"]).status === 0;

beforeAll(async () => {
  sb = sandbox();
  const bash = await sb.run(["completion", "bash"]);
  expect(bash.code).toBe(0);
  const zsh = await sb.run(["completion", "zsh"]);
  expect(zsh.code).toBe(0);
  bashScript = join(sb.root, "pk3s.bash");
  zshScript = join(sb.root, "_pk3s");
  writeFileSync(bashScript, bash.stdout);
  writeFileSync(zshScript, zsh.stdout);
  // `pk3s` on PATH, as the script calls it for package names.
  const bin = join(sb.root, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "pk3s"), `#!/bin/sh\nexec "${process.execPath}" -- "${PK3S_BIN}" "$@"\n`);
  chmodSync(join(bin, "pk3s"), 0o755);
  mkdirSync(join(sb.root, "work", "charts"), { recursive: true });
  writeFileSync(join(sb.root, "work", "values.yaml"), "a: 1\n");
  env = { ...process.env, ...sb.env, PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}` };
  delete env.PK3S_DEFAULT_CATALOG;
});
afterAll(() => sb.cleanup());

/** Complete the last word of `line` (a trailing space means an empty word) in bash. */
function bashComplete(line: string): string[] {
  const words = line.split(" ");
  const program = [
    `source ${JSON.stringify(bashScript)}`,
    `COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")})`,
    `COMP_CWORD=${words.length - 1}`,
    "_pk3s",
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join("\n");
  const r = spawnSync("bash", ["--norc", "--noprofile", "-c", program], { cwd: join(sb.root, "work"), env, encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout.split("\n").filter((l) => l !== "");
}

describe("bash", () => {
  it("is valid bash and registers the completion function", () => {
    expect(spawnSync("bash", ["-n", bashScript]).status).toBe(0);
    const r = spawnSync("bash", ["--norc", "-c", `source ${JSON.stringify(bashScript)}; complete -p pk3s`], { encoding: "utf8" });
    expect(r.stdout.trim()).toBe("complete -F _pk3s pk3s");
  });

  it("completes subcommands at each level from the command tree", () => {
    expect(bashComplete("pk3s ")).toEqual([
      "catalog",
      "search",
      "addon",
      "profile",
      "stack",
      "lock",
      "pack",
      "key",
      "sign",
      "verify",
      "push",
      "registry",
      "completion",
    ]);
    expect(bashComplete("pk3s ad")).toEqual(["addon"]);
    expect(bashComplete("pk3s catalog ")).toEqual(["add", "list", "remove", "update", "index", "prune", "trust"]);
    expect(bashComplete("pk3s profile ")).toEqual([
      "show",
      "pull",
      "contents",
      "validate",
      "plan",
      "install",
      "status",
      "outputs",
      "destroy",
      "list",
    ]);
    expect(bashComplete("pk3s addon ")).toEqual([
      "show",
      "pull",
      "contents",
      "install",
      "validate",
      "template",
      "list",
      "status",
      "uninstall",
      "upgrade",
      "history",
      "rollback",
      "backup",
      "backups",
      "test",
    ]);
    // Options before the subcommand do not confuse the walk.
    expect(bashComplete("pk3s --json cat")).toEqual(["catalog"]);
  });

  it("completes the options of the command being typed", () => {
    expect(bashComplete("pk3s addon install --k")).toEqual(["--kubeconfig"]);
    expect(bashComplete("pk3s profile install aws --a")).toEqual(["--allow-unverified", "--auto-approve"]);
    const all = bashComplete("pk3s profile destroy x -");
    expect(all).toEqual(
      expect.arrayContaining([
        "--json",
        "--env-file",
        "--instance",
        "--yes",
        "--auto-approve",
        "--purge",
        "--with-addons",
        "--forget-addons",
        "--help",
      ]),
    );
    expect(all).not.toContain("--kubeconfig");
  });

  it("completes option values: files, folders and fixed choices; nothing for free text", () => {
    expect(bashComplete("pk3s addon install x -f val")).toEqual(["values.yaml"]);
    expect(bashComplete("pk3s addon install x --values val")).toEqual(["values.yaml"]);
    expect(bashComplete("pk3s addon pull x --output ch")).toEqual(["charts"]);
    expect(bashComplete("pk3s search --type ")).toEqual(["addon", "profile", "stack"]);
    expect(bashComplete("pk3s completion ")).toEqual(["bash", "zsh"]);
    expect(bashComplete("pk3s addon install x --timeout ")).toEqual([]);
    // The value of an option is not taken for a subcommand or a positional argument.
    expect(bashComplete("pk3s --core-bin addon ")).toEqual([
      "catalog",
      "search",
      "addon",
      "profile",
      "stack",
      "lock",
      "pack",
      "key",
      "sign",
      "verify",
      "push",
      "registry",
      "completion",
    ]);
  });

  it("completes package names of the right type from the catalogs (pk3s search --offline --json)", () => {
    expect(bashComplete("pk3s addon install ")).toEqual(["cert-manager", "longhorn", "registry"]);
    expect(bashComplete("pk3s addon show lo")).toEqual(["longhorn"]);
    expect(bashComplete("pk3s profile plan ")).toEqual(["aws-single-node-basic", "local-lab", "remote-lab"]);
    expect(bashComplete("pk3s profile plan --instance lab l")).toEqual(["local-lab"]);
  });

  it("offers nothing after -- (those arguments go to the runtime)", () => {
    expect(bashComplete("pk3s profile plan x -- ")).toEqual([]);
  });
});

describe("zsh", () => {
  it("has the #compdef header and registers with compdef when sourced", () => {
    const text = readFileSync(zshScript, "utf8");
    expect(text.split("\n")[0]).toBe("#compdef pk3s");
    expect(text).toContain("compdef _pk3s pk3s");
    expect(text).toContain("_pk3s_walk");
  });

  it.runIf(hasZsh)("is valid zsh (zsh -n)", () => {
    const r = spawnSync("zsh", ["-n", zshScript], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  /** Drive _pk3s with words/CURRENT; _describe/compadd/_files are stubbed to print what they were given. */
  function zshComplete(line: string): string {
    const words = line.split(" ");
    const program = [
      `compdef() { print -r -- "compdef $*" }`,
      `_describe() { print -r -- "describe $2: \${(j: | :)\${(P)4}}" }`,
      `compadd() { shift; print -r -- "compadd $*" }`,
      `_files() { print -r -- "files $*" }`,
      `source ${JSON.stringify(zshScript)} >/dev/null`,
      `words=(${words.map((w) => `'${w}'`).join(" ")})`,
      `CURRENT=${words.length}`,
      "_pk3s",
    ].join("\n");
    const r = spawnSync("zsh", ["-f", "-c", program], { cwd: join(sb.root, "work"), env, encoding: "utf8" });
    expect(r.stderr).toBe("");
    return r.stdout.trim();
  }

  it.runIf(hasZsh)("completes subcommands with descriptions, options, values and package names", () => {
    expect(zshComplete("pk3s ")).toMatch(/^describe commands: catalog:manage catalog sources.* \| search:search the catalogs/);
    expect(zshComplete("pk3s addon install --k")).toContain("--kubeconfig:kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)");
    expect(zshComplete("pk3s search --type ")).toBe("compadd addon profile stack");
    expect(zshComplete("pk3s addon install x -f ")).toBe("files");
    expect(zshComplete("pk3s catalog index ")).toBe("files -/");
    expect(zshComplete("pk3s addon install ")).toBe("compadd cert-manager longhorn registry");
    expect(zshComplete("pk3s completion ")).toBe("compadd bash zsh");
  });
});

describe("pk3s completion", () => {
  it("rejects an unknown shell with a usage error", async () => {
    const r = await sb.run(["completion", "fish"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: command-argument value 'fish' is invalid for argument 'shell'. Allowed choices are bash, zsh");
    expect(r.stderr).toContain("hint: see the usage and an example: pk3s completion --help");
  });

  it("--json wraps the script", async () => {
    const r = await sb.run(["completion", "bash", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; shell: string; script: string };
    expect(doc).toMatchObject({ ok: true, shell: "bash" });
    expect(doc.script).toContain("complete -F _pk3s pk3s");
  });
});
