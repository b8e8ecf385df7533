/**
 * `addon install --stack NAME --stack-lock-digest D --package-options F`: the
 * run pk3s's `stack install` makes. Every package is installed at exactly the
 * package given (a deployed dependency is not skipped), each with its own
 * values and namespace, and the records say which stack and lock installed
 * them; installing on one's own drops that.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, fixtures, type Sandbox } from "./helpers/harness.js";

const LOCK = `sha256:${"ab".repeat(32)}`;
const LOCK2 = `sha256:${"cd".repeat(32)}`;

let sb: Sandbox;
let certManager: string;
let longhorn: string;
let options: string;
beforeEach(async () => {
  sb = await createSandbox();
  certManager = await sb.pack(join(fixtures, "addons/cert-manager"));
  longhorn = await sb.pack(join(fixtures, "addons/longhorn"));
  const values = join(sb.root, "longhorn-stack.yaml");
  await writeFile(values, "replicas: 3\n");
  options = join(sb.root, "options.json");
  await writeFile(options, JSON.stringify({ longhorn: { values: [values], set: ["ui.enabled=true"], namespace: "storage" } }));
});
afterEach(async () => {
  await sb.cleanup();
});

type Doc = Record<string, unknown> & { dependencyPackages?: Record<string, unknown>[] };

const stackRun = (digest: string, extra: string[] = []) => [
  "addon",
  "install",
  "--dependency-tgz",
  certManager,
  "--tgz",
  longhorn,
  "--stack",
  "platform",
  "--stack-lock-digest",
  digest,
  "--package-options",
  options,
  "--json",
  ...extra,
];

describe("addon install --stack", () => {
  it("installs a deployed dependency again when the stack wants other values, and records the stack on both", async () => {
    expect((await sb.run(["addon", "install", "--tgz", certManager])).code).toBe(0);
    expect((await sb.record("cert-manager"))?.stack).toBeUndefined();
    // Without --stack the deployed cert-manager would be skipped; a stack decides it like the --tgz package.
    await writeFile(options, JSON.stringify({ ...JSON.parse(await readText(options)), "cert-manager": { set: ["x=1"] } }));

    const r = await sb.run(stackRun(LOCK));
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc).toMatchObject({ action: "install", name: "longhorn", namespace: "storage" });
    expect(doc.dependencyPackages?.[0]).toMatchObject({ action: "upgrade", name: "cert-manager", previousVersion: "1.2.0" });
    expect(await sb.record("longhorn")).toMatchObject({ namespace: "storage", stack: { name: "platform", lockDigest: LOCK } });
    expect((await sb.record("cert-manager"))?.stack).toEqual({ name: "platform", lockDigest: LOCK });

    // The package's options reach helm: its own values file after the package's, then --set.
    const helm = (await sb.calls("helm")).find((c) => c.argv.includes("upgrade"));
    expect(helm?.argv).toEqual(expect.arrayContaining(["--namespace", "storage", "--set", "ui.enabled=true"]));
    expect(helm?.argv.join(" ")).toMatch(/ -f values\.yaml -f \S+\/longhorn-stack\.yaml --set ui\.enabled=true /);
  });

  it("is a no-op the second time; the dry run's values fingerprint is the record's", async () => {
    expect((await sb.run(stackRun(LOCK))).code).toBe(0);
    const record = await sb.record("longhorn");

    const dry = await sb.run(stackRun(LOCK, ["--dry-run"]));
    expect(dry.code, dry.stderr).toBe(0);
    const doc = JSON.parse(dry.stdout) as Doc;
    expect(doc.action).toBe("none");
    expect(doc.dependencyPackages?.[0]).toMatchObject({ action: "none", name: "cert-manager" });
    expect(doc.valuesFingerprint).toBe(record?.valuesFingerprint);

    const again = JSON.parse((await sb.run(stackRun(LOCK2))).stdout) as Doc;
    expect(again.action).toBe("none");
    // Nothing ran, so the record still names the lock that installed this version.
    expect((await sb.record("longhorn"))?.stack).toEqual({ name: "platform", lockDigest: LOCK });
  });

  it("addon list shows the stack and the values fingerprint; an upgrade on its own drops the stack", async () => {
    expect((await sb.run(stackRun(LOCK))).code).toBe(0);
    const list = JSON.parse((await sb.run(["addon", "list", "--json"])).stdout) as { addons: Record<string, unknown>[] };
    const lh = list.addons.find((a) => a.name === "longhorn");
    expect(lh).toMatchObject({ stack: { name: "platform", lockDigest: LOCK } });
    expect(lh?.valuesFingerprint).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);

    const manual = await sb.run(["addon", "upgrade", "--tgz", longhorn, "-n", "storage", "--set", "ui.enabled=false"]);
    expect(manual.code, manual.stderr).toBe(0);
    const after = await sb.record("longhorn");
    expect(after?.stack).toBeUndefined();
    expect(after?.valuesFingerprint).not.toBe(lh?.valuesFingerprint);
  });

  it("refuses options it cannot apply before anything runs", async () => {
    const cases: [string[], number, string][] = [
      [["--stack-lock-digest", LOCK], 2, "--stack-lock-digest needs --stack <name>"],
      [["--stack", "platform", "--stack-lock-digest", "md5:1"], 2, "invalid --stack-lock-digest"],
      [["--stack", "Platform"], 2, "--stack"],
      [["--package-options", join(sb.root, "missing.json")], 3, "--package-options file"],
      [["--package-options", options, "-n", "other"], 2, "longhorn has options both in --package-options and in -f/--set/-n"],
    ];
    for (const [extra, code, text] of cases) {
      const r = await sb.run(["addon", "install", "--dependency-tgz", certManager, "--tgz", longhorn, "--dry-run", ...extra]);
      expect(r.code, `${extra.join(" ")}: ${r.stderr}`).toBe(code);
      expect(r.stderr).toContain(text);
    }
    await writeFile(options, JSON.stringify({ registry: { set: ["a=b"] } }));
    const stray = await sb.run(["addon", "install", "--tgz", longhorn, "--dependency-tgz", certManager, "--package-options", options]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain("--package-options names registry, which is not a package of this run");
    await writeFile(options, JSON.stringify({ longhorn: { values: "x.yaml" } }));
    const bad = await sb.run(["addon", "install", "--tgz", longhorn, "--dependency-tgz", certManager, "--package-options", options]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain("longhorn.values");
    expect(await sb.record("longhorn")).toBeUndefined();
  });
});

async function readText(file: string): Promise<string> {
  return (await import("node:fs/promises")).readFile(file, "utf8");
}
