/**
 * Every name that reaches a path or a runtime goes through pkg-format's one
 * validator (issue 11, item 6): package and catalog names from argv, catalog
 * names in the configuration, and `--instance` (pk3s took `Lab`, which Infra
 * rejects, and only found out after downloading). A bad name is exit 2 (or 4
 * in the configuration file) before anything is downloaded or run.
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pkg, writeLocalCatalog } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { readStubLog, stubRuntimes } from "./helpers/stub-runtime.js";

let sb: Sandbox;
let env: Record<string, string>;
let log: string;

const cachedPackages = (): string[] => {
  const dir = join(sb.env.PK3S_CACHE_DIR!, "packages", "sha256");
  return existsSync(dir) ? readdirSync(dir) : [];
};

beforeEach(async () => {
  sb = sandbox();
  ({ log, env } = stubRuntimes(sb.root));
  const index = writeLocalCatalog(join(sb.root, "catalog"), [pkg("app", "1.0.0"), pkg("lab-cluster", "1.0.0", { type: "profile" })]);
  expect((await sb.run(["catalog", "add", "local", index])).code).toBe(0);
});
afterEach(() => sb.cleanup());

describe("--instance follows Infra's instance rule", () => {
  it.each([["Lab"], ["../x"], ["a/b"], ["lab..x"], ["-lab"], ["x".repeat(64)]])(
    "%j is refused by addon install and every profile verb before anything runs",
    async (instance) => {
      const runs = [
        ["addon", "install", "app", "--instance", instance, "--dry-run"],
        ["profile", "plan", "lab-cluster", "--instance", instance],
        ["profile", "install", "lab-cluster", "--instance", instance, "--auto-approve"],
        ["profile", "status", "lab-cluster", "--instance", instance],
        ["profile", "destroy", "lab-cluster", "--instance", instance, "--auto-approve"],
      ];
      for (const args of runs) {
        const r = await sb.run(args, env);
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        expect(r.stderr).toContain(`invalid --instance ${JSON.stringify(instance)}`);
        expect(r.stderr).toContain("lowercase letters, digits");
      }
      expect(readStubLog(log)).toEqual([]);
      expect(cachedPackages()).toEqual([]);
    },
  );

  it("a valid instance reaches Infra unchanged", async () => {
    const r = await sb.run(["profile", "plan", "lab-cluster", "--instance", "lab.eu-1_a"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(readStubLog(log)[0]?.argv).toContain("lab.eu-1_a");
  });
});

describe("package and catalog names from the command line", () => {
  it.each([
    [["addon", "pull", "Longhorn"], 'invalid package name "Longhorn"'],
    [["addon", "pull", "../etc/passwd"], 'invalid catalog name ".."'],
    [["addon", "show", "local/../x"], 'invalid package name "../x"'],
    [["addon", "install", "a".repeat(54), "--dry-run"], "invalid package name"],
    [["profile", "plan", "Bad_Name/lab-cluster"], 'invalid catalog name "Bad_Name"'],
    [["addon", "pull", "\u001b[2Jx"], 'invalid package name "\\u001b[2Jx"'],
    [["catalog", "add", "../x", join("catalog")], 'invalid catalog name "../x"'],
    [["catalog", "remove", "../x"], 'invalid catalog name "../x"'],
    [["catalog", "update", "Local"], 'invalid catalog name "Local"'],
  ])("%j is exit 2", async (args, message) => {
    const r = await sb.run(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain("\u001b");
    expect(readStubLog(log)).toEqual([]);
    expect(cachedPackages()).toEqual([]);
  });

  it("a catalog name in the configuration file is held to the same rule", async () => {
    const config = join(sb.env.PK3S_CONFIG_DIR!, "config.json");
    writeFileSync(config, JSON.stringify({ catalogs: [{ name: "../../x", url: "file:///nowhere/index.yaml", priority: 0 }] }), {
      mode: 0o600,
    });
    const r = await sb.run(["search"], env);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(config);
    expect(r.stderr).toContain("catalogs[0].name");
    expect(r.stderr).toContain("expected a catalog name");
  });
});
