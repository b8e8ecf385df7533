/**
 * Names from the command line or a source env file that become paths go
 * through pkg-format's one validator (red-team finding 6): `../x`-style
 * instance names on every command that takes one exit 2 before anything is
 * read or written; a source profile whose PK3S_INFRA_SCENARIO or
 * PK3S_INFRA_PROFILE_NAME is a path exits 4 naming the field.
 */
import { cp, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFixture, exists, fixturesDir, runInfra, type Sandbox, sandbox } from "./helpers.js";

const BAD_NAMES = ["../x", "x/../../y", "..", "x\u001b[2Jy"];

let sb: Sandbox;
let tgz: string;

beforeAll(async () => {
  sb = await sandbox();
  tgz = await buildFixture(sb, "local-lab");
});
afterAll(async () => sb.cleanup());

const devEnv = join(fixturesDir, "profiles-src/profiles/local/local-lab/lab.env");

function commandsFor(name: string): string[][] {
  const inputs = ["--set", "LAB_DIR=/tmp/never-used"];
  return [
    ["profile", "plan", "--tgz", tgz, ...inputs, "--instance", name],
    ["profile", "install", "--tgz", tgz, ...inputs, "--instance", name, "--yes"],
    ["profile", "status", "--instance", name],
    ["profile", "outputs", "--instance", name],
    ["profile", "destroy", "--instance", name, "--yes"],
    ["profile", "destroy", "--instance", name, "--yes", "--purge"],
    ["dev", "profile", "plan", "--profile-env", devEnv, ...inputs, "--instance", name],
    ["dev", "profile", "apply", "--profile-env", devEnv, ...inputs, "--instance", name, "--yes"],
    ["dev", "profile", "destroy", "--profile-env", devEnv, "--instance", name, "--yes"],
  ];
}

describe("instance names that are paths", () => {
  it("every command that takes --instance refuses them with exit 2, touching nothing", async () => {
    for (const name of BAD_NAMES) {
      for (const args of commandsFor(name)) {
        const r = await runInfra(sb, [...args, "--json"]);
        expect(r.code, `${args.join(" ")}\n${r.stderr}`).toBe(2);
        expect(JSON.parse(r.stdout).error.message).toBe(`invalid instance name ${JSON.stringify(name)}`);
        expect(r.stderr).not.toContain("\u001b");
      }
    }
    // Nothing was created: no instance, nothing beside the instances folder.
    expect(await exists(join(sb.state, "infra"))).toBe(false);
    expect((await readdir(sb.dir)).sort()).toEqual(["pkgs"]);
  });
});

describe("source profile names that are paths", () => {
  it("PK3S_INFRA_SCENARIO / PK3S_INFRA_PROFILE_NAME must be package names (exit 4 naming the field)", async () => {
    const root = join(sb.dir, "src-root");
    await cp(join(fixturesDir, "profiles-src"), root, { recursive: true });
    // A directory the traversal would reach: scenarios/local/../../outside.
    await cp(join(fixturesDir, "profiles-src/scenarios/local/local-lab"), join(sb.dir, "outside"), { recursive: true });
    const envFile = join(root, "profiles/local/local-lab/lab.env");
    for (const [key, value] of [
      ["PK3S_INFRA_SCENARIO", "../../../outside"],
      ["PK3S_INFRA_PROFILE_NAME", "../escape"],
    ] as const) {
      const text = `PK3S_INFRA_PROFILE_NAME=${key === "PK3S_INFRA_PROFILE_NAME" ? value : "local-lab"}\nPK3S_INFRA_SCENARIO=${key === "PK3S_INFRA_SCENARIO" ? value : "local-lab"}\nPK3S_INFRA_ENGINE=ansible\nLAB_DIR=/x\n`;
      await writeFile(envFile, text);
      const r = await runInfra(sb, ["dev", "profile", "package", "--profile-env", envFile, "--out", join(sb.dir, "out")]);
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toContain(`${envFile}: ${key}: invalid ${key} ${JSON.stringify(value)}`);
      expect(await exists(join(sb.dir, "out"))).toBe(false);
    }
  });
});
