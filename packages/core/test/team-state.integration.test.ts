/**
 * Core install records as team state (DESIGN.md §5, issue 18 item 4): two
 * "operators" (separate HOME, state, cache and config) share one real
 * PostgreSQL (a private cluster started for this file) and one cluster (the
 * stub helm's release state, the same kubeconfig server). What one installs,
 * the other sees in `addon list` and can uninstall from the package kept in
 * the database; a concurrent install of one add-on exits 7 naming the holder.
 */
import { mkdir, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresSkipReason, startPostgres, type TestPostgres } from "../../../fixtures/postgres.js";
import { createSandbox, fixtures, type RunOutput, type Sandbox, waitFor } from "./helpers/harness.js";
import { packFixture } from "./helpers/lifecycle-fixtures.js";

let pg: TestPostgres;
let alice: Sandbox;
let bob: Sandbox;
const seen: RunOutput[] = [];

async function run(sb: Sandbox, args: string[], env?: Record<string, string | undefined>): Promise<RunOutput> {
  const r = await sb.run(args, env);
  seen.push(r);
  return r;
}

describe.skipIf(postgresSkipReason !== undefined)("Core install records shared through PostgreSQL", () => {
  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase("records");
    alice = await createSandbox();
    bob = await createSandbox();
    for (const sb of [alice, bob]) {
      sb.env.PK3S_STATE_BACKEND = url;
      // One cluster: both operators' stub helm read and write the same release state.
      sb.env.STUB_HELM_STATE_DIR = alice.helmState;
    }
  });
  afterAll(async () => {
    await alice?.cleanup();
    await bob?.cleanup();
    await pg?.stop();
  });

  it("one operator installs with the stub helm; the other sees it in addon list and status", async () => {
    const tgz = await alice.pack(join(fixtures, "addons/cert-manager"));
    const install = await run(alice, ["addon", "install", "--tgz", tgz, "--json"]);
    expect(install.code, install.stderr).toBe(0);
    // Nothing of the record is in alice's state directory: it is in the database.
    expect(await alice.record("cert-manager")).toBeUndefined();

    const list = await run(bob, ["addon", "list", "--json"]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({
      cluster: { server: "https://127.0.0.1:6443" },
      addons: [{ name: "cert-manager", version: "1.2.0", status: "deployed" }],
    });
    const human = await run(bob, ["addon", "list"]);
    expect(human.stdout).toContain("cert-manager");
    const status = await run(bob, ["addon", "status", "cert-manager", "--json"]);
    expect(JSON.parse(status.stdout)).toMatchObject({ addon: { name: "cert-manager", status: "deployed" } });
  });

  it("a concurrent install of one add-on by the other operator exits 7 naming the holder", async () => {
    const tgz = await alice.pack(join(fixtures, "addons/longhorn"));
    const first = alice.spawn(["addon", "install", "--tgz", tgz], { STUB_HELM_SLEEP_MS: "3000" });
    await waitFor(async () => (await alice.calls("helm")).some((c) => c.argv[0] === "upgrade" && c.argv.includes("longhorn")));
    const second = await run(bob, ["addon", "install", "--tgz", tgz, "--json"]);
    expect(second.code, second.stderr).toBe(7);
    expect(second.stderr).toContain(
      `another run holds the lock (pid ${first.child.pid} on ${hostname()} running "productive-k3s-core addon install longhorn@`,
    );
    expect(JSON.parse(second.stdout).error.where).toMatch(
      /^postgres:\/\/pk3s:\*\*\*\*@127\.0\.0\.1:\d+\/records \(lock core\/clusters\/[0-9a-f]{16}\/addons\/longhorn\)$/,
    );
    const done = await first.done;
    seen.push(done);
    expect(done.code, done.stderr).toBe(0);
  });

  it("the other operator uninstalls with the hooks of the package kept in the database (he never had the file)", async () => {
    // longhorn depends on cert-manager: uninstall longhorn first, with its hooks from the kept package.
    const hooksBefore = (await bob.hookBlocks()).length;
    await rm(join(alice.root, "out"), { recursive: true, force: true });
    const r = await run(bob, ["addon", "uninstall", "longhorn", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ removed: true, warnings: [] });
    const blocks = (await bob.hookBlocks()).slice(hooksBefore);
    expect(blocks.map((b) => b.env.PK3S_STEP)).toEqual(["preUninstall", "clean", "postUninstall"]);
    const list = await run(alice, ["addon", "list", "--json"]);
    expect(JSON.parse(list.stdout).addons.map((a: { name: string }) => a.name)).toEqual(["cert-manager"]);
  });

  it("the other operator lists the revisions and rolls back to a package kept in the database (issue 16)", async () => {
    await mkdir(join(alice.root, "out"), { recursive: true }); // the test above removed it
    const v1 = await packFixture(alice, "lab-dashboard");
    const v2 = await packFixture(alice, "lab-dashboard", "1.1.0");
    expect((await run(alice, ["addon", "install", "--tgz", v1, "--set", "configure.DASHBOARD_TITLE=One"])).code).toBe(0);
    expect((await run(alice, ["addon", "upgrade", "--tgz", v2, "--set", "configure.DASHBOARD_TITLE=Two", "--no-backup"])).code).toBe(0);
    await rm(join(alice.root, "out"), { recursive: true, force: true }); // bob never had the files

    const history = await run(bob, ["addon", "history", "lab-dashboard", "--json"]);
    expect(history.code, history.stderr).toBe(0);
    expect(
      JSON.parse(history.stdout).revisions.map((h: { revision: number; version: string; packageKept: boolean }) => [
        h.revision,
        h.version,
        h.packageKept,
      ]),
    ).toEqual([
      [1, "1.0.0", true],
      [2, "1.1.0", true],
    ]);

    // Each operator keeps their own values key (a shared database is a copy of the records it protects):
    // alice's fingerprints never match bob's, so bob confirms the values with --force.
    const refused = await run(bob, ["addon", "rollback", "lab-dashboard", "--no-backup"]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("a revision another operator installed never matches");
    const before = (await bob.calls("helm")).length;
    // Sensitive answers are digests keyed the same way: bob gives them again (here: the blank default).
    const rb = await run(bob, ["addon", "rollback", "lab-dashboard", "--no-backup", "--force", "--json"], {
      PK3S_CONFIG_DASHBOARD_ADMIN_TOKEN: "",
    });
    expect(rb.code, rb.stderr).toBe(0);
    expect(JSON.parse(rb.stdout)).toMatchObject({ action: "rollback", version: "1.0.0", previousVersion: "1.1.0", revision: 3 });
    expect(rb.stderr).toContain("DASHBOARD_TITLE"); // revision 1's answers, recorded in the database
    expect(rb.stderr).toContain("One");
    const upgrades = (await bob.calls("helm")).slice(before).filter((c) => c.argv[0] === "upgrade");
    expect(upgrades.map((c) => c.argv.slice(0, 3))).toEqual([["upgrade", "--install", "lab-dashboard"]]);
    expect(await alice.record("lab-dashboard")).toBeUndefined(); // in the database, not in a state directory
    const list = await run(alice, ["addon", "list", "--json"]);
    expect(JSON.parse(list.stdout).addons).toContainEqual(expect.objectContaining({ name: "lab-dashboard", version: "1.0.0" }));
  });

  it("neither the password nor the connection string reaches output, hooks or helm", async () => {
    for (const r of seen) {
      expect(r.stdout).not.toContain(pg.password);
      expect(r.stderr).not.toContain(pg.password);
    }
    for (const sb of [alice, bob]) {
      for (const call of await sb.calls()) {
        expect(JSON.stringify(call)).not.toContain(pg.password);
        expect(call.env.PK3S_STATE_BACKEND).toBeUndefined();
      }
      for (const block of await sb.hookBlocks()) expect(block.env.PK3S_STATE_BACKEND).toBeUndefined();
    }
  });
});
