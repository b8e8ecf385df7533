/**
 * `addon forget`: drops the install record and the kept package, runs nothing against the cluster, holds
 * the add-on's lock; Core's `addon list --json` conforms to the shared runtime document schema.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CoreAddonList } from "@productive-k3s/pkg-format/runtime-documents";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, fixtures, type Sandbox } from "./helpers/harness.js";

let sb: Sandbox;
beforeEach(async () => {
  sb = await createSandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

describe("addon forget", () => {
  it("drops the record and the kept package without running anything; exit 3 when there is none", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/longhorn"));
    const dep = await sb.pack(join(fixtures, "addons/cert-manager"));
    for (const p of [dep, tgz]) expect((await sb.run(["addon", "install", "--tgz", p])).code).toBe(0);
    const list = JSON.parse((await sb.run(["addon", "list", "--json"])).stdout) as unknown;
    expect(CoreAddonList.parse(list)).toEqual(list);

    const callsBefore = (await sb.calls()).length;
    const hooksBefore = (await sb.hookBlocks()).length;
    const r = await sb.run(["addon", "forget", "longhorn", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      name: "longhorn",
      version: "1.0.0",
      cluster: { server: "https://127.0.0.1:6443", context: "default" },
      forgotten: true,
    });
    expect(await sb.record("longhorn")).toBeUndefined();
    expect(existsSync(join(await sb.clusterDir(), "addons/longhorn/package.tgz"))).toBe(false);
    expect((await sb.calls()).length).toBe(callsBefore);
    expect((await sb.hookBlocks()).length).toBe(hooksBefore);
    const names = (CoreAddonList.parse(JSON.parse((await sb.run(["addon", "list", "--json"])).stdout)) as CoreAddonList).addons.map(
      (a) => a.name,
    );
    expect(names).toEqual(["cert-manager"]);

    const again = await sb.run(["addon", "forget", "longhorn"]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain("longhorn is not installed on cluster https://127.0.0.1:6443");
  });

  it("takes the add-on's lock: a held lock is exit 7 and the record stays", async () => {
    const dep = await sb.pack(join(fixtures, "addons/cert-manager"));
    expect((await sb.run(["addon", "install", "--tgz", dep])).code).toBe(0);
    const lock = join(await sb.clusterDir(), "locks", "cert-manager.lock");
    await writeFile(
      lock,
      JSON.stringify({
        pid: process.pid,
        host: (await import("node:os")).hostname(),
        startedAt: new Date().toISOString(),
        command: "test",
      }),
    );
    const r = await sb.run(["addon", "forget", "cert-manager"]);
    expect(r.code).toBe(7);
    expect(await sb.record("cert-manager")).toBeDefined();
  });
});
