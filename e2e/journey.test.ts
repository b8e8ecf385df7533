/**
 * Issue #6: the whole user journey through the three built binaries:
 * catalog (served over loopback HTTP) → search → pull → validate → install →
 * status → uninstall / destroy.
 *
 * Tools: by default the stub helm, kubectl and tofu from fixtures/bin, so the
 * journey itself runs in CI. With PK3S_E2E_KUBECONFIG=<file> the add-on half
 * uses the real helm and kubectl from PATH against that cluster; with
 * PK3S_E2E_TOFU=1 the profile half uses the real tofu (the profile only has a
 * provider-free terraform_data resource, so nothing leaves the machine). What
 * ran with stubs is printed, never passed off as the real thing.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, FIXTURES_BIN, nodeAsync, REPO, type Run } from "./helpers.js";

const REAL_KUBECONFIG = process.env.PK3S_E2E_KUBECONFIG;
const REAL_TOFU = process.env.PK3S_E2E_TOFU === "1";

let work: string;
let server: Server;
let baseUrl: string;
let env: NodeJS.ProcessEnv;
let kubeconfig: string;
const stubLog = (): string => join(work, "stub-calls.ndjson");

function say(message: string): void {
  // Shown in the vitest output (stderr), so a run with stubs is never mistaken for a real-tool run.
  process.stderr.write(`[e2e] ${message}\n`);
}

function stubCalls(tool: string): string[][] {
  if (!existsSync(stubLog())) return [];
  return readFileSync(stubLog(), "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { tool: string; argv: string[] })
    .filter((c) => c.tool === tool)
    .map((c) => c.argv);
}

const pk3s = (args: string[]): Promise<Run> => nodeAsync(BIN.pk3s, args, { env, cwd: work });
const core = (args: string[]): Promise<Run> => nodeAsync(BIN.core, args, { env, cwd: work });
function ok(r: Run, what: string): Run {
  expect(r.code, `${what}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
  return r;
}

const PROFILE_YAML = `apiVersion: infra.productive-k3s.io/v1
kind: Profile
metadata:
  name: e2e-lab
  version: 1.0.0
  category: local
  description: provider-free OpenTofu profile for the end-to-end journey
spec:
  scenario:
    type: e2e
  engine:
    type: opentofu
  inputs:
    - name: TF_VAR_cluster_name
      required: true
      sensitive: false
      source: package-default
      description: cluster name
    - name: TF_VAR_owner
      required: true
      sensitive: false
      source: local-override
      description: who runs the journey
`;
const MAIN_TF = `variable "cluster_name" { type = string }
variable "owner" { type = string }

resource "terraform_data" "cluster" {
  input = "\${var.cluster_name}-\${var.owner}"
}

output "cluster_name" {
  value = var.cluster_name
}
`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "pk3s-e2e-"));
  const www = join(work, "www");
  const packages = join(www, "packages");
  await mkdir(packages, { recursive: true });

  say(
    REAL_KUBECONFIG
      ? `add-ons: REAL helm and kubectl against ${REAL_KUBECONFIG}`
      : "add-ons: real-cluster run SKIPPED (PK3S_E2E_KUBECONFIG not set): using the stub helm/kubectl from fixtures/bin",
  );
  say(
    REAL_TOFU
      ? "profiles: REAL tofu from PATH"
      : "profiles: real OpenTofu run SKIPPED (PK3S_E2E_TOFU!=1): using the stub tofu from fixtures/bin",
  );

  // Packages, built by the real packer from the fixtures and an e2e profile.
  const { packPackage } = (await import(join(REPO, "packages/pkg-format/dist/archive/pack.js"))) as {
    packPackage: (src: string, out: string) => Promise<{ file: string }>;
  };
  for (const addon of ["cert-manager", "longhorn"]) await packPackage(join(REPO, "fixtures/addons", addon), packages);
  const profileSrc = join(work, "e2e-lab");
  await mkdir(join(profileSrc, "scenario"), { recursive: true });
  await writeFile(join(profileSrc, "profile.yaml"), PROFILE_YAML);
  await writeFile(join(profileSrc, "profile.env"), "TF_VAR_cluster_name=e2e-lab\nTF_VAR_owner=placeholder\n");
  await writeFile(join(profileSrc, "scenario", "main.tf"), MAIN_TF);
  await packPackage(profileSrc, packages);

  // The catalog is served over loopback HTTP, the way a static host would.
  server = createServer((req, res) => {
    const path = join(www, decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/"));
    if (!path.startsWith(www) || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200);
    res.end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;

  kubeconfig = REAL_KUBECONFIG ?? join(REPO, "fixtures/kubeconfig/k3s.yaml");
  env = {
    ...process.env,
    PK3S_STATE_DIR: join(work, "state"),
    PK3S_CACHE_DIR: join(work, "cache"),
    PK3S_CONFIG_DIR: join(work, "config"),
    PK3S_STUB_LOG: stubLog(),
    STUB_HELM_STATE_DIR: join(work, "helm-state"),
    NO_COLOR: "1",
  };
  // Only the catalog the journey publishes (not the checkout's built-in catalogs/local).
  env.PK3S_DEFAULT_CATALOG = "none";
  if (!REAL_KUBECONFIG) {
    env.PK3S_HELM_BIN = join(FIXTURES_BIN, "helm");
    env.PK3S_KUBECTL_BIN = join(FIXTURES_BIN, "kubectl");
  }
  if (!REAL_TOFU) env.PK3S_TOFU_BIN = join(FIXTURES_BIN, "tofu");

  ok(await pk3s(["catalog", "index", packages, "--out", join(www, "index.yaml")]), "catalog index");
  ok(await pk3s(["catalog", "add", "e2e", `${baseUrl}/index.yaml`]), "catalog add");
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (work) await rm(work, { recursive: true, force: true });
});

describe("user journey", () => {
  it("catalog → search → show: everything published is found", async () => {
    const found = JSON.parse(ok(await pk3s(["search", "--json"]), "search").stdout) as { results: { name: string; type: string }[] };
    expect(found.results.map((r) => `${r.type}/${r.name}`).sort()).toEqual(["addon/cert-manager", "addon/longhorn", "profile/e2e-lab"]);
    const show = ok(await pk3s(["profile", "show", "e2e-lab"]), "profile show");
    expect(show.stdout).toContain("TF_VAR_owner");
  });

  it("pull downloads a verified package into the given folder", async () => {
    const out = join(work, "pulled");
    ok(await pk3s(["addon", "pull", "longhorn", "--output", out]), "pull");
    expect(await readdir(out)).toEqual(["longhorn-1.0.0.tgz"]);
    const index = readFileSync(join(work, "www", "index.yaml"), "utf8");
    const { sha256File } = (await import(join(REPO, "packages/pkg-format/dist/archive/digest.js"))) as {
      sha256File: (f: string) => Promise<string>;
    };
    expect(index).toContain(await sha256File(join(out, "longhorn-1.0.0.tgz")));
  });

  it("validate goes through Core", async () => {
    const r = ok(await pk3s(["addon", "validate", "longhorn"]), "addon validate");
    expect(`${r.stdout}${r.stderr}`).toMatch(/longhorn/);
  });

  it("install resolves cert-manager first, then longhorn through Helm, and records both", async () => {
    const r = ok(await pk3s(["addon", "install", "longhorn", "--kubeconfig", kubeconfig]), "addon install");
    expect(r.stderr).toContain("Target cluster:");
    const status = JSON.parse(ok(await core(["addon", "list", "--kubeconfig", kubeconfig, "--json"]), "list").stdout) as {
      addons: { name: string; version: string; status: string }[];
    };
    expect(status.addons.map((a) => `${a.name}@${a.version}:${a.status}`).sort()).toEqual([
      "cert-manager@1.2.0:deployed",
      "longhorn@1.0.0:deployed",
    ]);
    if (!REAL_KUBECONFIG) {
      const upgrades = stubCalls("helm").filter((argv) => argv[0] === "upgrade");
      expect(upgrades).toHaveLength(1);
      expect(upgrades[0]?.slice(0, 4)).toEqual(["upgrade", "--install", "longhorn", "./charts/longhorn"]);
      expect(upgrades[0]).toEqual(expect.arrayContaining(["--kubeconfig", kubeconfig]));
    }
  });

  it("a second install of the same versions changes nothing", async () => {
    const r = ok(await pk3s(["addon", "install", "longhorn", "--kubeconfig", kubeconfig]), "re-install");
    expect(`${r.stdout}${r.stderr}`).toMatch(/already installed/i);
    if (!REAL_KUBECONFIG) expect(stubCalls("helm").filter((a) => a[0] === "upgrade").length).toBe(1);
  });

  it("status, then uninstall in dependency order", async () => {
    const status = JSON.parse(ok(await core(["addon", "status", "longhorn", "--kubeconfig", kubeconfig, "--json"]), "status").stdout) as {
      addon: { status: string };
    };
    expect(status.addon.status).toBe("deployed");
    const blocked = await core(["addon", "uninstall", "cert-manager", "--kubeconfig", kubeconfig]);
    expect(blocked.code).toBe(4);
    expect(blocked.stderr).toContain("longhorn");
    ok(await core(["addon", "uninstall", "longhorn", "--kubeconfig", kubeconfig]), "uninstall longhorn");
    ok(await core(["addon", "uninstall", "cert-manager", "--kubeconfig", kubeconfig]), "uninstall cert-manager");
    const list = JSON.parse(ok(await core(["addon", "list", "--kubeconfig", kubeconfig, "--json"]), "list").stdout) as {
      addons: unknown[];
    };
    expect(list.addons).toEqual([]);
    if (!REAL_KUBECONFIG) expect(stubCalls("helm").filter((a) => a[0] === "uninstall")).toHaveLength(1);
  });

  it("profile: validate checks the contract, and with --require-inputs refuses the package's placeholder for a local-override input", async () => {
    const contract = ok(await pk3s(["profile", "validate", "e2e-lab"]), "profile validate (contract)");
    expect(contract.stdout).toContain("an install needs from the invoking machine (--env-file or --set): TF_VAR_owner");
    const r = await pk3s(["profile", "validate", "e2e-lab", "--", "--require-inputs"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("TF_VAR_owner");
  });

  it("profile: plan → install → status → destroy", async () => {
    const envFile = join(work, "e2e.env");
    await writeFile(envFile, "TF_VAR_owner=e2e\n");
    ok(await pk3s(["profile", "validate", "e2e-lab", "--env-file", envFile]), "profile validate");
    const plan = ok(await pk3s(["profile", "plan", "e2e-lab", "--env-file", envFile]), "profile plan");
    expect(`${plan.stdout}${plan.stderr}`).toMatch(/1 to add/);
    ok(await pk3s(["profile", "install", "e2e-lab", "--env-file", envFile, "--auto-approve"]), "profile install");
    const status = JSON.parse(ok(await pk3s(["profile", "status", "e2e-lab", "--json"]), "profile status").stdout) as {
      status: string;
      outputs: Record<string, unknown>;
    };
    expect(status.status).toBe("installed");
    expect(JSON.stringify(status.outputs)).toContain("e2e-lab");
    ok(await pk3s(["profile", "destroy", "e2e-lab", "--env-file", envFile, "--auto-approve"]), "profile destroy");
    const after = JSON.parse(ok(await pk3s(["profile", "status", "e2e-lab", "--json"]), "status after destroy").stdout) as {
      status: string;
    };
    expect(after.status).toBe("destroyed");
    if (!REAL_TOFU) {
      const tofu = stubCalls("tofu").map((argv) => argv.find((a) => !a.startsWith("-")));
      expect(tofu).toEqual(expect.arrayContaining(["init", "plan", "show", "apply", "output", "destroy"]));
    }
    appendFileSync(join(work, "journey.done"), "ok\n");
  });

  // These show as "skipped" in the summary unless the real tools were asked for, so a stub-only run is visible as such.
  it.runIf(REAL_KUBECONFIG !== undefined)("the add-on half used the real helm and kubectl (PK3S_E2E_KUBECONFIG)", () => {
    expect(stubCalls("helm")).toEqual([]);
    expect(stubCalls("kubectl")).toEqual([]);
  });
  it.runIf(REAL_TOFU)("the profile half used the real tofu (PK3S_E2E_TOFU=1)", () => {
    expect(stubCalls("tofu")).toEqual([]);
  });
});
