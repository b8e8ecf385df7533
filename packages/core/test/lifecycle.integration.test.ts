import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, fixtures, k3sKubeconfig, pidAlive, type Sandbox, type StubCall, waitFor } from "./helpers/harness.js";

let sb: Sandbox;
beforeEach(async () => {
  sb = await createSandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

async function installBoth(): Promise<{ certManager: string; longhorn: string }> {
  const certManager = await sb.pack(join(fixtures, "addons/cert-manager"));
  const longhorn = await sb.pack(join(fixtures, "addons/longhorn"));
  for (const tgz of [certManager, longhorn]) {
    const r = await sb.run(["addon", "install", "--tgz", tgz]);
    expect(r.code, r.stderr).toBe(0);
  }
  return { certManager, longhorn };
}

describe("uninstall", () => {
  it("is blocked by a dependent, runs from the kept package, and removes the record", async () => {
    const { certManager, longhorn } = await installBoth();
    const blocked = await sb.run(["addon", "uninstall", "cert-manager"]);
    expect(blocked.code).toBe(4);
    expect(blocked.stderr).toContain("cannot uninstall cert-manager: longhorn depends on it");
    expect(await sb.record("cert-manager")).toBeDefined();

    // the original files are gone: uninstall must use the kept package
    await rm(dirname(longhorn), { recursive: true });
    await rm(dirname(certManager), { recursive: true });
    const hooksBefore = (await sb.hookBlocks()).length;
    const r = await sb.run(["addon", "uninstall", "longhorn", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, name: "longhorn", version: "1.0.0", removed: true });
    const blocks = (await sb.hookBlocks()).slice(hooksBefore);
    expect(blocks.map((b) => `${b.env.PK3S_STEP} ${b.script}`)).toEqual([
      "preUninstall scripts/hooks/pre-uninstall.sh",
      "clean scripts/clean.sh",
      "postUninstall scripts/hooks/post-uninstall.sh",
    ]);
    expect(blocks[1]?.env.PK3S_ACTION).toBe("uninstall");
    const helmUninstall = (await sb.calls("helm")).filter((c) => c.argv[0] === "uninstall");
    expect(helmUninstall.map((c) => c.argv)).toEqual([
      [
        "uninstall",
        "longhorn",
        "--namespace",
        "longhorn-system",
        "--wait",
        "--timeout",
        "10m",
        "--kubeconfig",
        k3sKubeconfig,
        "--kube-context",
        "default",
      ],
    ]);
    expect(await sb.record("longhorn")).toBeUndefined();
    expect(existsSync(join(await sb.clusterDir(), "addons/longhorn/package.tgz"))).toBe(false);
    expect((await sb.run(["addon", "status", "longhorn"])).code).toBe(3);

    // nothing depends on cert-manager any more
    const cm = await sb.run(["addon", "uninstall", "cert-manager"]);
    expect(cm.code, cm.stderr).toBe(0);
    const del = (await sb.calls("kubectl")).find((c) => c.argv.includes("delete"));
    expect(del?.argv).toEqual([
      "--kubeconfig",
      k3sKubeconfig,
      "--context",
      "default",
      "delete",
      "-n",
      "cert-manager",
      "-f",
      "manifests/cert-manager.yaml",
    ]);
  });

  it("--force overrides the dependents check", async () => {
    await installBoth();
    const r = await sb.run(["addon", "uninstall", "cert-manager", "--force", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { warnings: string[] };
    expect(out.warnings.join("\n")).toContain("uninstalling despite dependents (--force): longhorn");
    expect(await sb.record("cert-manager")).toBeUndefined();
    expect(await sb.record("longhorn")).toBeDefined();
  });

  it("a failing clean script stops uninstall (record failed); --force carries on and removes it", async () => {
    const src = await sb.variant("cert-manager", () => undefined, {
      "scripts/clean.sh": "#!/usr/bin/env bash\necho 'clean: cannot delete' >&2\nexit 2\n",
    });
    expect((await sb.run(["addon", "install", "--tgz", await sb.pack(src)])).code).toBe(0);
    const r = await sb.run(["addon", "uninstall", "cert-manager"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("step clean failed: exit 2: clean: cannot delete");
    expect(await sb.record("cert-manager")).toMatchObject({ status: "failed", action: "uninstall", failedStep: "clean" });
    const forced = await sb.run(["addon", "uninstall", "cert-manager", "--force", "--json"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect((JSON.parse(forced.stdout) as { steps: { status: string }[] }).steps.map((s) => s.status)).toEqual(["failed"]);
    expect(await sb.record("cert-manager")).toBeUndefined();
  });

  it("uninstall of something not installed exits 3", async () => {
    expect((await sb.run(["addon", "uninstall", "nothing"])).code).toBe(3);
  });
});

describe("status and list", () => {
  it("show the records enriched with helm status", async () => {
    await installBoth();
    const st = await sb.run(["addon", "status", "longhorn", "--json"]);
    expect(st.code, st.stderr).toBe(0);
    const out = JSON.parse(st.stdout) as { addon: Record<string, unknown>; cluster: unknown };
    expect(out.cluster).toEqual({ server: "https://127.0.0.1:6443", context: "default" });
    expect(out.addon).toMatchObject({
      name: "longhorn",
      version: "1.0.0",
      status: "deployed",
      release: "longhorn",
      helm: { status: "deployed", revision: 1 },
    });
    const human = await sb.run(["addon", "status", "longhorn"]);
    expect(human.stdout).toContain("longhorn 1.0.0: deployed");
    expect(human.stdout).toContain("release:   longhorn (helm: deployed rev 1)");

    const list = await sb.run(["addon", "list", "--json"]);
    const addons = (JSON.parse(list.stdout) as { addons: { name: string; helm?: unknown }[] }).addons;
    expect(addons.map((a) => a.name)).toEqual(["cert-manager", "longhorn"]);
    expect(addons[0]?.helm).toBeUndefined();
    const table = await sb.run(["addon", "list"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^NAME\s+VERSION\s+STATUS\s+NAMESPACE\s+RELEASE\s+HELM$/);

    // helm unavailable: the record is still shown
    const noHelm = await sb.run(["addon", "status", "longhorn", "--json"], { STUB_HELM_FAIL: "status" });
    expect(noHelm.code).toBe(0);
    expect((JSON.parse(noHelm.stdout) as { addon: { helm: { error: string } } }).addon.helm.error).toContain(
      "Kubernetes cluster unreachable",
    );
  });
});

describe("processes", () => {
  function sleepingHook(pidDir: string, marker = ""): string {
    return [
      "#!/usr/bin/env bash",
      `mkdir -p "${pidDir}"`,
      `(sleep 300; echo never) & echo $! > "${pidDir}/child.pid"`,
      `echo $$ > "${pidDir}/hook.pid"`,
      marker,
      "sleep 300 & wait",
      "",
    ].join("\n");
  }

  async function pids(dir: string): Promise<number[]> {
    const names = await readdir(dir).catch(() => []);
    return Promise.all(names.map(async (n) => Number((await readFile(join(dir, n), "utf8")).trim())));
  }

  it("a hook that sleeps past --timeout is killed with its children", async () => {
    const pidDir = join(sb.root, "pids");
    const src = await sb.variant(
      "cert-manager",
      (m) => {
        (m.spec as Record<string, unknown>).hooks = { preInstall: "scripts/slow.sh" };
      },
      { "scripts/slow.sh": sleepingHook(pidDir) },
    );
    const r = await sb.run(["addon", "install", "--tgz", await sb.pack(src), "--timeout", "2s"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("step preInstall failed: timed out after 2s; killed with its child processes");
    const record = (await sb.record("cert-manager")) as { status: string; failedStep: string; steps: { status: string }[] };
    expect(record).toMatchObject({ status: "failed", failedStep: "preInstall" });
    expect(record.steps.map((s) => s.status)).toEqual(["timed-out"]);
    const all = await pids(pidDir);
    expect(all).toHaveLength(2);
    await waitFor(async () => all.every((p) => !pidAlive(p)), 10_000);
  });

  it("SIGINT during install exits 130, records interrupted and leaves no process behind", async () => {
    const pidDir = join(sb.root, "pids");
    const started = join(sb.root, "started");
    const src = await sb.variant(
      "cert-manager",
      (m) => {
        (m.spec as Record<string, unknown>).hooks = { postInstall: "scripts/slow.sh" };
      },
      { "scripts/slow.sh": sleepingHook(pidDir, `touch "${started}"`) },
    );
    const tgz = await sb.pack(src);
    const { child, done } = sb.spawn(["addon", "install", "--tgz", tgz]);
    await waitFor(async () => existsSync(started));
    child.kill("SIGINT");
    const r = await done;
    expect(r.code).toBe(130);
    const record = (await sb.record("cert-manager")) as { status: string; failedStep: string; steps: { name: string; status: string }[] };
    expect(record.status).toBe("interrupted");
    expect(record.failedStep).toBe("postInstall");
    expect(record.steps.map((s) => `${s.name}:${s.status}`)).toEqual(["install:ok", "postInstall:interrupted"]);
    const all = await pids(pidDir);
    expect(all).toHaveLength(2);
    await waitFor(async () => all.every((p) => !pidAlive(p)), 10_000);
    // the lock was released: the next run is not blocked
    expect(existsSync(join(await sb.clusterDir(), "locks/cert-manager.lock"))).toBe(false);
    const status = await sb.run(["addon", "status", "cert-manager", "--json"]);
    expect((JSON.parse(status.stdout) as { addon: { status: string } }).addon.status).toBe("interrupted");
  });
});

describe("dev surface", () => {
  function normalise(calls: StubCall[], root: string): unknown[] {
    // The cluster probe asks `version` and `get nodes` at once: the log holds that pair in either order.
    const probe = (c: StubCall): number =>
      c.tool === "kubectl" && c.argv.includes("--request-timeout") ? (c.argv.includes("version") ? 1 : 2) : 0;
    const ordered = [...calls];
    for (let i = 0; i + 1 < ordered.length; i++) {
      if (probe(ordered[i]!) === 2 && probe(ordered[i + 1]!) === 1) [ordered[i], ordered[i + 1]] = [ordered[i + 1]!, ordered[i]!];
    }
    return ordered.map((c) => {
      const env = { ...c.env };
      const pkgDir = env.PK3S_ADDON_DIR;
      delete env.PK3S_ADDON_DIR;
      delete env.PK3S_RUN_ID;
      const text = JSON.stringify({ tool: c.tool, argv: c.argv, env, cwd: pkgDir !== undefined && c.cwd === pkgDir ? "<package>" : c.cwd });
      // Each run has its own run directory (Core's library, the bound kubectl).
      return JSON.parse(
        text
          .split(root)
          .join("<root>")
          .replace(/\/[^"]*\/pk3s-core-run-\w+/g, "<run>"),
      );
    });
  }

  it("dev addon install --source and addon install --tgz of the packed source make identical tool calls", async () => {
    for (const name of ["cert-manager", "longhorn"]) {
      const r = await sb.run(["dev", "addon", "install", "--source", join(fixtures, "addons", name), "--json"]);
      expect(r.code, r.stderr).toBe(0);
    }
    const devCalls = normalise(await sb.calls(), sb.root);

    const other = await createSandbox();
    try {
      for (const name of ["cert-manager", "longhorn"]) {
        const tgz = await other.pack(join(fixtures, "addons", name));
        const r = await other.run(["addon", "install", "--tgz", tgz, "--json"]);
        expect(r.code, r.stderr).toBe(0);
      }
      const tgzCalls = normalise(await other.calls(), other.root);
      expect(devCalls.length).toBeGreaterThan(5);
      expect(tgzCalls).toEqual(devCalls);
      expect(((await sb.record("longhorn")) as { digest: string }).digest).toBe(
        ((await other.record("longhorn")) as { digest: string }).digest,
      );
    } finally {
      await other.cleanup();
    }
  });

  it("dev addon validate and package", async () => {
    const v = await sb.run(["dev", "addon", "validate", "--source", join(fixtures, "addons/registry"), "--json"]);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, kind: "addon", name: "registry", version: "0.1.0" });
    const out = join(sb.root, "dist");
    await mkdir(out);
    const p = await sb.run(["dev", "addon", "package", "--source", join(fixtures, "addons/longhorn"), "--out", out]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain(join(out, "longhorn-1.0.0.tgz"));
    expect(p.stdout).toMatch(/digest: sha256:[0-9a-f]{64}/);
    const bad = await sb.variant("registry", (m) => {
      delete (m.spec as Record<string, unknown>).install;
    });
    const invalid = await sb.run(["dev", "addon", "validate", "--source", bad]);
    expect(invalid.code).toBe(4);
    expect(invalid.stderr).toContain("spec.chart or spec.install.script");
  });
});
