/**
 * The add-on lifecycle of issue 16 with the published-style fixtures and the
 * stub tools: impact and consent, configure answers without a terminal,
 * backups, revisions and rollback, validate-installed.
 */
import { spawn, spawnSync } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { coreBin, createSandbox, k3sKubeconfig, type Sandbox } from "./helpers/harness.js";
import { kubectlAnswers, packFixture, type StubHost, scriptKubectl, stubHost } from "./helpers/lifecycle-fixtures.js";

let sb: Sandbox;
let host: StubHost;
beforeEach(async () => {
  sb = await createSandbox();
  host = await stubHost(sb);
});
afterEach(async () => {
  await sb.cleanup();
});

const run = (args: string[], env: Record<string, string> = {}) => sb.run(args, { ...host.env, ...env });
const labels = async (): Promise<string[][]> => scriptKubectl(await sb.calls(), k3sKubeconfig, "default").filter((a) => a[0] === "label");

/** Every file under the state directory, as text (to check what it never holds). */
async function stateText(): Promise<string> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(await readFile(p, "utf8"));
    }
  };
  await walk(sb.state);
  return out.join("\n");
}

describe("impact and consent", () => {
  it("an add-on that changes this machine needs --allow-host-changes: exit 4 naming the capabilities, nothing runs", async () => {
    const tgz = await packFixture(sb, "lab-registry");
    const r = await run(["addon", "install", "--tgz", tgz, "--json"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      "impact: lab-registry 1.0.0 changes the cluster and this machine (package-install, service-enable, etc-hosts): Installs a registry",
    );
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      error: {
        exitCode: 4,
        message: "host changes not allowed: lab-registry 1.0.0 (package-install, service-enable, etc-hosts)",
        problems: [{ path: "spec.impact.host", message: expect.stringContaining("package-install, service-enable, etc-hosts") }],
        hint: expect.stringContaining("--allow-host-changes"),
      },
    });
    // Only the cluster probe ran: no script, no host tool, no record.
    expect((await sb.calls()).every((c) => c.tool === "kubectl" && c.argv.includes("--request-timeout"))).toBe(true);
    expect(await sb.record("lab-registry")).toBeUndefined();
  });

  it("a dry run shows the impact and says a real run needs consent (exit 0)", async () => {
    const tgz = await packFixture(sb, "lab-registry");
    const r = await run(["addon", "install", "--tgz", tgz, "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "Impact: lab-registry 1.0.0 changes the cluster and this machine (package-install, service-enable, etc-hosts): Installs a registry in the cluster and can point a local /etc/hosts entry at it. (a real run needs --allow-host-changes)",
    );
    expect(r.stdout).toContain("1. [configure] bash ../../scripts/pk3s-phase.sh configure scripts/configure.sh ../../work/configure.env");
    expect(r.stderr).toContain("a real run needs --allow-host-changes");
  });
});

describe("configure", () => {
  it("without a terminal takes each answer or default, prints them (sensitive masked), passes them on and records the non-sensitive ones", async () => {
    const tgz = await packFixture(sb, "lab-registry");
    const values = join(sb.root, "answers.yaml");
    await writeFile(values, "configure:\n  LAB_REGISTRY_SIZE: 50Gi\n  lab_registry_host: from-file.lab\n");
    const r = await run(
      ["addon", "install", "--tgz", tgz, "--allow-host-changes", "-f", values, "--set", "configure.LAB_REGISTRY_HOST=reg.lab", "--json"],
      { PK3S_CONFIG_LAB_REGISTRY_PASSWORD: "pw-from-env-41", PK3S_CONFIG_LAB_REGISTRY_MANAGE_HOSTS: "no" },
    );
    expect(r.code, r.stderr).toBe(0);
    for (const line of [
      "[configure] The lab registry is missing. Install it now?: y (default)",
      "[configure] Registry hostname (DNS name): reg.lab (given)",
      "[configure] Registry volume size: 50Gi (given)",
      "[configure] Registry password: *** (given)",
      "[configure] Point /etc/hosts on this machine at the registry?: n (given)",
    ]) {
      expect(r.stderr).toContain(line);
    }
    expect(JSON.parse(r.stdout).configure).toEqual({
      LAB_REGISTRY_ACTION: "install",
      LAB_REGISTRY_HOST: "reg.lab",
      LAB_REGISTRY_SIZE: "50Gi",
      LAB_REGISTRY_PASSWORD: "***",
      LAB_REGISTRY_MANAGE_HOSTS: "n",
    });
    // The install phase got the answers as PK3S_<KEY>.
    expect(await labels()).toEqual([
      ["label", "namespace", "lab-registry", "--overwrite", "pk3s.io/host=reg.lab", "pk3s.io/size=50Gi", "pk3s.io/version=1.0.0"],
    ]);
    expect(await readFile(host.hostsFile, "utf8")).toBe("127.0.0.1 localhost\n"); // MANAGE_HOSTS=n
    const record = (await sb.record("lab-registry")) as { answers: Record<string, string>; sensitiveAnswers: Record<string, string> };
    expect(record.answers).toEqual({
      LAB_REGISTRY_ACTION: "install",
      LAB_REGISTRY_HOST: "reg.lab",
      LAB_REGISTRY_SIZE: "50Gi",
      LAB_REGISTRY_MANAGE_HOSTS: "n",
    });
    expect(Object.keys(record.sensitiveAnswers)).toEqual(["LAB_REGISTRY_PASSWORD"]);
    expect(record.sensitiveAnswers.LAB_REGISTRY_PASSWORD).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    // The password is nowhere: state, run logs, output, tool argv.
    expect(await stateText()).not.toContain("pw-from-env-41");
    expect(r.stdout + r.stderr).not.toContain("pw-from-env-41");
    expect((await sb.calls()).flatMap((c) => c.argv).join(" ")).not.toContain("pw-from-env-41");
  });

  it("an upgrade reuses the recorded answers, and refuses to reset a sensitive one it cannot recall", async () => {
    const v1 = await packFixture(sb, "lab-registry");
    const v2 = await packFixture(sb, "lab-registry", "1.1.0");
    const first = await run(["addon", "install", "--tgz", v1, "--allow-host-changes", "--set", "configure.LAB_REGISTRY_HOST=reg.lab"], {
      PK3S_CONFIG_LAB_REGISTRY_PASSWORD: "s3cret-pw-77",
    });
    expect(first.code, first.stderr).toBe(0);

    const refused = await run(["addon", "upgrade", "--tgz", v2, "--allow-host-changes", "--no-backup"]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(
      "LAB_REGISTRY_PASSWORD is sensitive, not recorded, and the last run used another value than the default",
    );
    expect(refused.stderr).toContain("hint: give PK3S_CONFIG_LAB_REGISTRY_PASSWORD=...");
    expect(((await sb.record("lab-registry")) as { version: string }).version).toBe("1.0.0"); // nothing changed
    expect(await labels()).toHaveLength(1);

    const upgraded = await run(["addon", "upgrade", "--tgz", v2, "--allow-host-changes", "--no-backup"], {
      PK3S_CONFIG_LAB_REGISTRY_PASSWORD: "s3cret-pw-77",
    });
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(upgraded.stderr).toContain("[configure] Registry hostname (DNS name): reg.lab (recorded)");
    expect((await labels()).at(-1)).toEqual([
      "label",
      "namespace",
      "lab-registry",
      "--overwrite",
      "pk3s.io/host=reg.lab",
      "pk3s.io/size=10Gi",
      "pk3s.io/version=1.1.0",
    ]);
  });

  it("a declined install question stops before anything changes; an invalid yes/no answer is exit 4", async () => {
    const tgz = await packFixture(sb, "lab-registry");
    const declined = await run(["addon", "install", "--tgz", tgz, "--allow-host-changes"], { PK3S_CONFIG_INSTALL_LAB_REGISTRY: "n" });
    expect(declined.code).toBe(1);
    expect(declined.stderr).toContain("lab-registry: configure answered LAB_REGISTRY_ACTION=skip; nothing was changed");
    expect(declined.stderr).not.toContain("Registry hostname"); // details were not asked
    expect(await sb.record("lab-registry")).toBeUndefined();
    expect(await labels()).toEqual([]);

    const invalid = await run(["addon", "install", "--tgz", tgz, "--allow-host-changes", "--set", "configure.install_lab_registry=maybe"]);
    expect(invalid.code).toBe(4);
    expect(invalid.stderr).toContain("PK3S_CONFIG_INSTALL_LAB_REGISTRY=maybe: expected y or n");
    expect(await sb.record("lab-registry")).toBeUndefined();
  });

  it("a changed answer makes a re-install an upgrade; the same answers are a no-op", async () => {
    const tgz = await packFixture(sb, "lab-dashboard");
    expect((await run(["addon", "install", "--tgz", tgz, "--set", "configure.DASHBOARD_TITLE=One"])).code).toBe(0);
    const same = await run(["addon", "install", "--tgz", tgz, "--set", "configure.DASHBOARD_TITLE=One", "--json"]);
    expect(JSON.parse(same.stdout)).toMatchObject({ action: "none" });
    const other = await run(["addon", "install", "--tgz", tgz, "--set", "configure.DASHBOARD_TITLE=Two", "--json"]);
    expect(other.code, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout)).toMatchObject({ action: "upgrade", revision: 2, configure: { DASHBOARD_TITLE: "Two" } });
    expect(other.stderr).toContain("installed with other configure answers (DASHBOARD_TITLE)");
    // Helm never sees configure.* values.
    const upgrades = (await sb.calls("helm")).filter((c) => c.argv[0] === "upgrade");
    expect(upgrades.flatMap((c) => c.argv).some((a) => a.startsWith("configure."))).toBe(false);
  });
});

/** Run Core on a pseudo-terminal (util-linux `script`), answering each prompt once it is shown. */
function onTerminal(args: string[], answers: [prompt: string, reply: string][]): Promise<{ code: number | null; output: string }> {
  const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, "--", coreBin, ...args].map(q).join(" ");
  const child = spawn("script", ["-qec", command, "/dev/null"], {
    cwd: sb.root,
    env: { ...sb.env, ...host.env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  let output = "";
  let pending = "";
  let next = 0;
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    output += d;
    pending += d;
    for (
      let at = pending.indexOf(answers[next]?.[0] ?? "\0");
      next < answers.length && at >= 0;
      at = pending.indexOf(answers[next]?.[0] ?? "\0")
    ) {
      pending = pending.slice(at + (answers[next]?.[0].length ?? 0));
      child.stdin.write(`${answers[next]?.[1]}\n`);
      next++;
    }
  });
  const guard = setTimeout(() => child.kill("SIGKILL"), 25_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(guard);
      resolve({ code, output });
    }),
  );
}

const hasScript = spawnSync("script", ["--version"]).status === 0;

describe.skipIf(!hasScript)("on a terminal", () => {
  it("asks for consent and asks configure's questions; a secret is not echoed, only its mask is printed", async () => {
    const tgz = await packFixture(sb, "lab-registry");
    const r = await onTerminal(
      ["addon", "install", "--tgz", tgz],
      [
        ["changes this machine. Allow? [y/N]", "y"],
        ["Install it now? [y] (y/n):", ""],
        ["Registry hostname (DNS name) [registry.lab.internal]:", "typed.lab"],
        ["Registry volume size [10Gi]:", ""],
        ["Registry password [***]:", "typed-pw-93"],
        ["at the registry? [y] (y/n):", "n"],
      ],
    );
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain("[configure] Registry hostname (DNS name): typed.lab (answered)");
    expect(r.output).toContain("[configure] Registry volume size: 10Gi (default)");
    expect(r.output).toContain("[configure] Registry password: *** (answered)");
    expect(r.output).not.toContain("typed-pw-93");
    expect(await sb.record("lab-registry")).toMatchObject({
      answers: { LAB_REGISTRY_HOST: "typed.lab", LAB_REGISTRY_SIZE: "10Gi", LAB_REGISTRY_MANAGE_HOSTS: "n" },
    });
  });

  it("a no at the consent question is exit 4 and runs nothing", async () => {
    const tgz = await packFixture(sb, "lab-registry");
    const r = await onTerminal(["addon", "install", "--tgz", tgz], [["changes this machine. Allow? [y/N]", "n"]]);
    expect(r.code).toBe(4);
    expect(r.output).toContain("host changes not allowed");
    expect(await sb.record("lab-registry")).toBeUndefined();
  });
});

describe("backups", () => {
  it("addon backup --output runs the backup phase into a new folder; addon backups lists the kept ones", async () => {
    const tgz = await packFixture(sb, "lab-registry");
    expect((await run(["addon", "install", "--tgz", tgz, "--allow-host-changes"])).code).toBe(0);
    const answers = await kubectlAnswers(sb, [{ args: ["get", "all", "-n", "lab-registry"], stdout: "kind: List # lab-registry\n" }]);
    const out = join(sb.root, "my-backup");
    const r = await run(["addon", "backup", "lab-registry", "--output", out, "--json"], answers);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, name: "lab-registry", version: "1.0.0", backup: { reason: "manual", dir: out, kept: false } });
    expect(await readFile(join(out, "namespaces/lab-registry-all.yaml"), "utf8")).toBe("kind: List # lab-registry\n");
    expect(await readFile(join(out, "settings.txt"), "utf8")).toBe("host=registry.lab.internal\nsize=10Gi\n");
    expect(JSON.parse(await readFile(join(out, "backup.json"), "utf8"))).toMatchObject({ name: "lab-registry", reason: "manual" });
    expect(scriptKubectl(await sb.calls(), k3sKubeconfig, "default").slice(-3)).toEqual([
      ["get", "namespace", "lab-registry"],
      ["get", "all", "-n", "lab-registry", "-o", "yaml"],
      ["get", "secret", "-n", "lab-registry", "-o", "yaml"],
    ]);
    expect((await run(["addon", "backup", "lab-registry", "--output", out])).code).toBe(2); // not an empty folder

    // --output backups are the user's; none is kept yet.
    expect(JSON.parse((await run(["addon", "backups", "lab-registry", "--json"])).stdout)).toMatchObject({ ok: true, backups: [] });
    const kept = await run(["addon", "backup", "lab-registry", "--json"]);
    const keptDir = JSON.parse(kept.stdout).backup.dir as string;
    expect(keptDir).toContain("/addons/lab-registry/backups/");
    const list = JSON.parse((await run(["addon", "backups", "lab-registry", "--json"])).stdout);
    expect(list.backups.map((b: { dir: string; reason: string }) => [b.dir, b.reason])).toEqual([[keptDir, "manual"]]);
  });

  it("upgrade and uninstall back up first (kept, a retention limit), --no-backup skips; backups outlive the uninstall", async () => {
    const v1 = await packFixture(sb, "lab-registry");
    const v2 = await packFixture(sb, "lab-registry", "1.1.0");
    expect((await run(["addon", "install", "--tgz", v1, "--allow-host-changes"])).code).toBe(0);
    const up = await run(["addon", "upgrade", "--tgz", v2, "--allow-host-changes", "--json"]);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout).backup).toMatchObject({ version: "1.0.0", reason: "upgrade", kept: true });
    const settings = await readFile(join(JSON.parse(up.stdout).backup.dir, "settings.txt"), "utf8");
    expect(settings).toBe("host=registry.lab.internal\nsize=10Gi\n"); // the installed version's answers
    const again = await run(["addon", "upgrade", "--tgz", v1, "--allow-host-changes", "--no-backup", "--json"]);
    expect(JSON.parse(again.stdout).backup).toBeUndefined();
    const un = await run(["addon", "uninstall", "lab-registry", "--allow-host-changes", "--json"], { PK3S_KEEP_BACKUPS: "1" });
    expect(un.code, un.stderr).toBe(0);
    expect(JSON.parse(un.stdout).backup).toMatchObject({ reason: "uninstall" });
    // PK3S_KEEP_BACKUPS=1: only the newest stays, after the uninstall too.
    const list = JSON.parse((await run(["addon", "backups", "lab-registry", "--json"])).stdout);
    expect(list.backups.map((b: { reason: string }) => b.reason)).toEqual(["uninstall"]);
    expect(await sb.record("lab-registry")).toBeUndefined();
  });
});

describe("history and rollback", () => {
  it("lists revisions; rollback reinstalls the kept earlier package with that revision's answers, as a new revision", async () => {
    const v1 = await packFixture(sb, "lab-registry");
    const v2 = await packFixture(sb, "lab-registry", "1.1.0");
    expect((await run(["addon", "install", "--tgz", v1, "--allow-host-changes", "--set", "configure.LAB_REGISTRY_SIZE=20Gi"])).code).toBe(
      0,
    );
    expect((await run(["addon", "upgrade", "--tgz", v2, "--allow-host-changes", "--set", "configure.LAB_REGISTRY_SIZE=30Gi"])).code).toBe(
      0,
    );

    const history = JSON.parse((await run(["addon", "history", "lab-registry", "--json"])).stdout);
    expect(history).toMatchObject({ ok: true, name: "lab-registry", version: "1.1.0", current: 2 });
    expect(
      history.revisions.map(
        (h: { revision: number; action: string; version: string; status: string; current: boolean; packageKept: boolean }) => [
          h.revision,
          h.action,
          h.version,
          h.status,
          h.current,
          h.packageKept,
        ],
      ),
    ).toEqual([
      [1, "install", "1.0.0", "deployed", false, true],
      [2, "upgrade", "1.1.0", "deployed", true, true],
    ]);
    expect(history.revisions[0].valuesFingerprint).toMatch(/^hmac-sha256:/);
    expect(history.revisions[0].answers).toMatchObject({ LAB_REGISTRY_SIZE: "20Gi" });
    const human = await run(["addon", "history", "lab-registry"]);
    expect(human.stdout).toMatch(/^REVISION\s+ACTION\s+VERSION\s+DIGEST\s+VALUES\s+UPDATED\s+RESULT\s+PACKAGE/m);
    expect(human.stdout).toMatch(/^2\*\s+upgrade\s+1\.1\.0/m);

    const dry = await run(["addon", "rollback", "lab-registry", "--dry-run", "--allow-host-changes"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("Action: rollback (installed: 1.1.0)");
    expect(dry.stdout).toContain("Would back up the installed lab-registry 1.1.0 first");

    const rb = await run(["addon", "rollback", "lab-registry", "--allow-host-changes", "--json"]);
    expect(rb.code, rb.stderr).toBe(0);
    expect(JSON.parse(rb.stdout)).toMatchObject({ action: "rollback", version: "1.0.0", previousVersion: "1.1.0", revision: 3 });
    expect(rb.stderr).toContain("[configure] Registry volume size: 20Gi (given)"); // revision 1's answer
    expect((await labels()).at(-1)).toEqual([
      "label",
      "namespace",
      "lab-registry",
      "--overwrite",
      "pk3s.io/host=registry.lab.internal",
      "pk3s.io/size=20Gi",
      "pk3s.io/version=1.0.0",
    ]);
    expect(await sb.record("lab-registry")).toMatchObject({ version: "1.0.0", revision: 3, action: "rollback" });

    const back = await run(["addon", "rollback", "lab-registry", "--to", "1.1.0", "--allow-host-changes", "--no-backup", "--json"]);
    expect(JSON.parse(back.stdout)).toMatchObject({ action: "rollback", version: "1.1.0", revision: 4 });
    expect((await run(["addon", "rollback", "lab-registry", "--to", "9"])).code).toBe(3);
    expect((await run(["addon", "rollback", "lab-registry", "--to", "latest"])).code).toBe(2);
  });

  it("values are never stored: --set values must be given again and match; a package past the retention limit is gone", async () => {
    const v1 = await packFixture(sb, "lab-dashboard");
    const v2 = await packFixture(sb, "lab-dashboard", "1.1.0");
    expect((await run(["addon", "install", "--tgz", v1, "--set", "replicaCount=2"])).code).toBe(0);
    expect((await run(["addon", "upgrade", "--tgz", v2, "--no-backup"])).code).toBe(0);

    const missing = await run(["addon", "rollback", "lab-dashboard"]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("revision 1 was installed with --set replicaCount: give them again");
    const wrong = await run(["addon", "rollback", "lab-dashboard", "--set", "replicaCount=3"]);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain("the values given differ from the ones revision 1 was installed with");
    const right = await run(["addon", "rollback", "lab-dashboard", "--set", "replicaCount=2", "--no-backup", "--json"]);
    expect(right.code, right.stderr).toBe(0);
    const upgrades = (await sb.calls("helm")).filter((c) => c.argv[0] === "upgrade");
    expect(upgrades.at(-1)?.argv).toEqual(expect.arrayContaining(["./charts/lab-dashboard", "--set", "replicaCount=2"]));
    expect(await stateText()).not.toContain("replicaCount=2");

    // PK3S_KEEP_PACKAGES=1: the next run keeps only its own package.
    expect((await run(["addon", "upgrade", "--tgz", v2, "--no-backup"], { PK3S_KEEP_PACKAGES: "1" })).code).toBe(0);
    const gone = await run(["addon", "rollback", "lab-dashboard", "--to", "1", "--set", "replicaCount=2"]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain("the package of revision 1 (lab-dashboard 1.0.0) is no longer kept");
  });
});

describe("validate-installed", () => {
  it("re-runs the validate phase from the kept package (alias test); a recorded failure is exit 1", async () => {
    const tgz = await packFixture(sb, "lab-registry");
    expect((await run(["addon", "install", "--tgz", tgz, "--allow-host-changes"])).code).toBe(0);
    const before = (await sb.calls()).length;
    const ok = await run(["addon", "validate-installed", "lab-registry", "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      name: "lab-registry",
      passed: true,
      steps: [{ name: "validate", status: "ok" }],
    });
    expect(scriptKubectl((await sb.calls()).slice(before), k3sKubeconfig, "default")[0]).toEqual(["get", "namespace", "lab-registry"]);

    const gone = await kubectlAnswers(sb, [{ args: ["get", "namespace", "lab-registry"], exitCode: 1 }]);
    const failed = await run(["addon", "test", "lab-registry"], gone);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("[validate] [FAIL] namespace lab-registry does not exist");
    expect(failed.stderr).toContain("step validate failed");
    expect(await sb.record("lab-registry")).toMatchObject({ status: "deployed" }); // the record is untouched
  });

  it("exits 3 for an add-on that is not installed", async () => {
    for (const cmd of [["validate-installed"], ["backup"], ["history"], ["rollback"]]) {
      expect((await run(["addon", ...cmd, "nothing-here"])).code).toBe(3);
    }
  });
});
