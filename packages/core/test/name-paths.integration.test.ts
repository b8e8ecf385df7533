/**
 * Issue 11, item 6: a name from the command line, a record or a directory
 * listing never becomes a path outside Core's state directory, nor a tool
 * argument. Each case was reproduced on the old code: it read, ran or deleted
 * things outside the state directory (or handed the name to the tools).
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, fixtures, type Sandbox } from "./helpers/harness.js";

let sb: Sandbox;
beforeEach(async () => {
  sb = await createSandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

/** From `<state>/core/clusters/<id>/addons/<name>` five levels up is the sandbox root, outside the state dir. */
const TRAVERSAL = "../../../../../victim";

/**
 * cert-manager installed for real (its clean script leaves a marker), then its record and kept
 * package moved to <root>/victim, outside the state directory.
 */
async function plantVictim(): Promise<{ victim: string; marker: string; files: Record<string, string> }> {
  const marker = join(sb.root, "clean-ran");
  const src = await sb.variant("cert-manager", () => undefined, {
    "scripts/clean.sh": `#!/usr/bin/env bash\ntouch '${marker}'\n`,
  });
  const r = await sb.run(["addon", "install", "--tgz", await sb.pack(src)]);
  expect(r.code, r.stderr).toBe(0);
  const victim = join(sb.root, "victim");
  await rename(join(await sb.clusterDir(), "addons/cert-manager"), victim);
  return { victim, marker, files: await snapshot(victim) };
}

/** Every file under `dir` (relative path → content). */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) files[relative(dir, join(e.parentPath, e.name))] = await readFile(join(e.parentPath, e.name), "latin1");
  }
  return files;
}

async function untouched(victim: string, files: Record<string, string>): Promise<void> {
  expect(Object.keys(files)).toEqual(expect.arrayContaining(["record.json", "package.tgz"]));
  expect(await snapshot(victim)).toEqual(files);
}

describe("add-on names from the command line", () => {
  it("uninstall ../x: exit 2, no record read, no clean script run, nothing deleted outside the state dir", async () => {
    const { victim, marker, files } = await plantVictim();
    const callsBefore = (await sb.calls()).length;
    const r = await sb.run(["addon", "uninstall", TRAVERSAL, "--json"]);
    // (the old code ran the victim's clean script, then deleted its record and package)
    expect(existsSync(marker), "clean script ran").toBe(false);
    await untouched(victim, files);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: "E_USAGE", message: `invalid add-on name "${TRAVERSAL}"` } });
    expect(existsSync(join(sb.root, "victim.lock"))).toBe(false);
    expect((await sb.calls()).length).toBe(callsBefore);
  });

  it("uninstall --force ../x: exit 2 as well", async () => {
    const { victim, marker, files } = await plantVictim();
    const r = await sb.run(["addon", "uninstall", TRAVERSAL, "--force"]);
    expect(existsSync(marker), "clean script ran").toBe(false);
    await untouched(victim, files);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: invalid add-on name "${TRAVERSAL}"`);
    expect(r.stderr).toContain("hint: use 1-53 lowercase letters");
  });

  it("status ../x: exit 2, the record outside the state dir is not shown", async () => {
    const { victim, files } = await plantVictim();
    const r = await sb.run(["addon", "status", TRAVERSAL, "--json"]);
    // (the old code printed the record it found outside the state dir)
    expect(r.stdout).not.toContain("cert-manager");
    expect(r.code, r.stdout).toBe(2);
    await untouched(victim, files);
  });

  it("a bad name is refused before the kubeconfig is read", async () => {
    for (const cmd of ["uninstall", "status"]) {
      const r = await sb.run(["addon", cmd, "Cert_Manager"], { KUBECONFIG: join(sb.root, "missing") });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('invalid add-on name "Cert_Manager"');
    }
    expect(existsSync(sb.state)).toBe(false);
  });
});

describe("namespaces and names in install-like commands", () => {
  it("install, upgrade and dev addon install refuse -n ../x (exit 2) before any tool runs", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/cert-manager"));
    const source = join(fixtures, "addons/cert-manager");
    const callsBefore = (await sb.calls()).length;
    // (the old code ran the install script with PK3S_NAMESPACE=../../x and kubectl -n ../../x)
    for (const args of [
      ["addon", "install", "--tgz", tgz, "-n", "../../x"],
      ["addon", "upgrade", "--tgz", tgz, "--namespace", "../../x"],
      ["addon", "install", "--tgz", tgz, "-n", "kube-system/x", "--dry-run"],
      ["dev", "addon", "install", "--source", source, "-n", "Kube-System"],
    ]) {
      const r = await sb.run(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/error: invalid --namespace "/);
    }
    expect((await sb.calls()).length).toBe(callsBefore);
    expect(await sb.record("cert-manager")).toBeUndefined();
  });

  it("--assume-installed takes add-on names only", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/longhorn"));
    const r = await sb.run(["addon", "install", "--tgz", tgz, "--dry-run", "--assume-installed", "../cert-manager@1.2.0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid --assume-installed name "../cert-manager"');
  });
});

describe("names read back from records", () => {
  it("a record whose name points outside the state dir is damaged (exit 4): uninstall writes nothing there", async () => {
    await sb.run(["addon", "install", "--tgz", await sb.pack(join(fixtures, "addons/cert-manager"))]);
    const dir = join(await sb.clusterDir(), "addons");
    await rename(join(dir, "cert-manager"), join(dir, "evil"));
    const file = join(dir, "evil/record.json");
    const record = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...record, name: TRAVERSAL }));

    const r = await sb.run(["addon", "uninstall", "evil", "--json"]);
    // (the old code wrote the record back under its own name: <root>/victim/record.json)
    expect(existsSync(join(sb.root, "victim")), "wrote outside the state dir").toBe(false);
    expect(r.code, r.stderr).toBe(4);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: "E_VALIDATION" } });
    expect(r.stderr).toContain(`install record ${file} is damaged`);
    expect((await sb.run(["addon", "list"])).code).toBe(4);
  });

  it("a record for another add-on's name, or with a release that is a flag, is damaged (exit 4)", async () => {
    await sb.run(["addon", "install", "--tgz", await sb.pack(join(fixtures, "addons/cert-manager"))]);
    const file = join(await sb.clusterDir(), "addons/cert-manager/record.json");
    const record = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...record, name: "longhorn" }));
    const other = await sb.run(["addon", "status", "cert-manager"]);
    expect(other.code).toBe(4);
    expect(other.stderr).toContain("name: expected cert-manager, the add-on this record is kept for");

    await writeFile(file, JSON.stringify({ ...record, release: "--kubeconfig=/etc/other" }));
    const callsBefore = (await sb.calls("helm")).length;
    const flag = await sb.run(["addon", "uninstall", "cert-manager"]);
    expect(flag.code).toBe(4);
    expect(flag.stderr).toContain("release: expected a Helm release name");
    expect((await sb.calls("helm")).length).toBe(callsBefore);
  });

  it("a directory in addons/ that is not an add-on name is ignored by list, with a warning", async () => {
    await sb.run(["addon", "install", "--tgz", await sb.pack(join(fixtures, "addons/cert-manager"))]);
    await mkdir(join(await sb.clusterDir(), "addons", "Not_An_Addon"));
    const r = await sb.run(["addon", "list", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { addons: { name: string }[] }).addons.map((a) => a.name)).toEqual(["cert-manager"]);
    expect(r.stderr).toContain("Not_An_Addon: not an add-on name");
  });
});
