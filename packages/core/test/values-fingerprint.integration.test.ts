/**
 * Issue 11, item 11: the values fingerprint in record.json is keyed (HMAC with
 * a per-installation key), so a record does not let anyone test guesses of a
 * `--set` secret offline; it still tells "same values" from "changed".
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, fixtures, type Sandbox } from "./helpers/harness.js";

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");
/** The fingerprint the old code stored for `--set` arguments only: sha256 over "set:<sha256(arg)>\n" lines. */
const unkeyed = (sets: string[]): string => `sha256:${sha256(sets.map((s) => `set:${sha256(s)}\n`).join(""))}`;

describe("values fingerprint in the install record", () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await createSandbox();
  });
  afterEach(async () => {
    await sb.cleanup();
  });

  const SECRET = "adminPassword=hunter2";
  const install = async (tgz: string, sets: string[]) => {
    const r = await sb.run(["addon", "install", "--tgz", tgz, ...sets.flatMap((s) => ["--set", s]), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    return { ...(JSON.parse(r.stdout) as { action: string }), stderr: r.stderr };
  };
  const recordText = async () => readFile(join(await sb.clusterDir(), "addons/cert-manager/record.json"), "utf8");
  const fingerprint = async () => (JSON.parse(await recordText()) as { valuesFingerprint?: string }).valuesFingerprint;

  it("holds no plain hash of a --set value; same values give the same fingerprint, other values another", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/cert-manager"));
    expect((await install(tgz, [SECRET])).action).toBe("install");
    const text = await recordText();
    expect(text).not.toContain(sha256(SECRET));
    expect(text).not.toContain(unkeyed([SECRET]));
    const first = await fingerprint();
    expect(first).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);

    const keyFile = join(sb.state, "core/values.key");
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const key = await readFile(keyFile, "utf8");
    expect(key).toMatch(/^[0-9a-f]{64}\n$/);

    // same values, next run: recognised (nothing to do), same fingerprint, same key
    expect((await install(tgz, [SECRET])).action).toBe("none");
    expect(await fingerprint()).toBe(first);
    expect(await readFile(keyFile, "utf8")).toBe(key);

    // changed value: an upgrade, another fingerprint
    const changed = await install(tgz, ["adminPassword=hunter3"]);
    expect(changed.action).toBe("upgrade");
    expect(changed.stderr).toContain("installed with other values; upgrading to apply them");
    expect(await fingerprint()).not.toBe(first);
  });

  it("a record with an old unkeyed fingerprint counts as 'values changed', and the next write drops it", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/cert-manager"));
    await install(tgz, [SECRET]);
    const file = join(await sb.clusterDir(), "addons/cert-manager/record.json");
    const old = { ...(JSON.parse(await readFile(file, "utf8")) as object), valuesFingerprint: unkeyed([SECRET]) };
    await writeFile(file, JSON.stringify(old));

    const status = await sb.run(["addon", "status", "cert-manager", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).not.toContain(unkeyed([SECRET]));

    const again = await install(tgz, [SECRET]);
    expect(again.action).toBe("upgrade");
    expect(again.stderr).toContain("recorded without a values fingerprint (by an older Core)");
    expect(await recordText()).not.toContain(unkeyed([SECRET]));
    expect(await fingerprint()).toMatch(/^hmac-sha256:/);
  });

  it("a dry run creates no key", async () => {
    const tgz = await sb.pack(join(fixtures, "addons/cert-manager"));
    const r = await sb.run(["addon", "install", "--tgz", tgz, "--set", SECRET, "--dry-run", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(sb.state, "core/values.key"))).toBe(false);
  });
});
