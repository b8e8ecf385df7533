/**
 * Issue 6: `--json` of every command of the three CLIs, run for real in a sandbox
 * (private state/cache/config dirs, helm/kubectl/tofu stubs from fixtures/bin, fixture
 * packages packed by the real packer, the k3s kubeconfig fixture). stdout must be ONE JSON
 * document with the documented top-level shape; failures are {ok:false,error} on stdout
 * with the human error on stderr.
 *
 * PK3S_JSON_CAPTURE_DIR=<dir> also writes each command's stdout to <dir>/<command>.json
 * (docs/json-output.md is generated from there).
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOciRegistry } from "../fixtures/oci-registry.js";
import { packPackage } from "../packages/pkg-format/dist/archive/pack.js";
import { commandEntries } from "./cli-surface.js";
import { BIN, FIXTURES_BIN, REPO } from "./helpers.js";

type Cli = keyof typeof BIN;
type Doc = Record<string, unknown>;
interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const root = mkdtempSync(join(tmpdir(), "pk3s-json-"));
const pkgs = join(root, "pkgs");
const www = join(root, "www");
const work = join(root, "work");
const awsEnv = join(REPO, "fixtures/env/aws-single-node-basic.env");
const labEnvSource = join(REPO, "fixtures/profiles-src/profiles/local/local-lab/lab.env");
const kubeconfig = join(REPO, "fixtures/kubeconfig/k3s.yaml");
const captureDir = process.env.PK3S_JSON_CAPTURE_DIR;

const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: join(root, "home"),
  NO_COLOR: "1",
  PK3S_STATE_DIR: join(root, "state"),
  PK3S_CACHE_DIR: join(root, "cache"),
  PK3S_CONFIG_DIR: join(root, "config"),
  // Only the catalog this suite adds (not the checkout's built-in catalogs/local).
  PK3S_DEFAULT_CATALOG: "none",
  PK3S_HELM_BIN: join(FIXTURES_BIN, "helm"),
  PK3S_KUBECTL_BIN: join(FIXTURES_BIN, "kubectl"),
  PK3S_TOFU_BIN: join(FIXTURES_BIN, "tofu"),
  PK3S_STUB_LOG: join(root, "stub.log"),
  STUB_HELM_STATE_DIR: join(root, "helm-state"),
  KUBECONFIG: kubeconfig,
};

function run(cli: Cli, args: readonly string[], stdin?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--", BIN[cli], ...args],
      { env, cwd: work, timeout: 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(stdin ?? "");
  });
}

/** Parse stdout as exactly one JSON document (JSON.parse rejects anything before or after it). */
function oneDocument(r: Result, label: string): Doc {
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch (err) {
    throw new Error(`${label}: stdout is not one JSON document (${String(err)}):\n${r.stdout}\n--- stderr:\n${r.stderr}`);
  }
  expect(typeof doc === "object" && doc !== null && !Array.isArray(doc), `${label}: not an object`).toBe(true);
  return doc as Doc;
}

const covered = new Set<string>();

interface Step {
  /** The command as `commandEntries()` labels it, e.g. "pk3s addon install". */
  command: string;
  /** Capture name when one command is shown more than once. */
  name?: string;
  cli: Cli;
  args: string[];
  /** Documented top-level keys (besides `ok: true`). */
  keys: string[];
  check?: (doc: Doc) => void;
  /** Fed to the command's stdin (a password for --password-stdin). */
  stdin?: string;
}

const BIN_NAME: Record<Cli, string> = { pk3s: "pk3s", core: "productive-k3s-core", infra: "productive-k3s-infra" };

async function step(s: Step): Promise<Doc> {
  const label = `${BIN_NAME[s.cli]} ${s.args.join(" ")}`;
  const r = await run(s.cli, s.args, s.stdin);
  expect(r.code, `${label}\n${r.stderr}`).toBe(0);
  const doc = oneDocument(r, label);
  expect(doc.ok, label).toBe(true);
  for (const k of s.keys) expect(Object.keys(doc), `${label}: key ${k}`).toContain(k);
  s.check?.(doc);
  covered.add(s.command);
  if (captureDir !== undefined) {
    mkdirSync(captureDir, { recursive: true });
    const file = (s.name ?? s.command).replaceAll(" ", "_");
    writeFileSync(join(captureDir, `${file}.json`), `${JSON.stringify({ argv: [BIN_NAME[s.cli], ...s.args], doc }, null, 2)}\n`);
  }
  return doc;
}

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  for (const d of ["addons/longhorn", "addons/cert-manager", "addons/registry", "profiles/aws-single-node-basic"]) {
    await packPackage(join(REPO, "fixtures", d), pkgs);
  }
  cpSync(pkgs, www, { recursive: true });
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("productive-k3s-core --json", () => {
  const longhorn = (): string => join(pkgs, "longhorn-1.0.0.tgz");
  const certManager = (): string => join(pkgs, "cert-manager-1.2.0.tgz");

  it("--version", async () => {
    await step({ command: "productive-k3s-core", cli: "core", args: ["--version", "--json"], keys: ["name", "version"] });
  });

  it("addon validate / dev addon validate", async () => {
    await step({
      command: "productive-k3s-core addon validate",
      cli: "core",
      args: ["addon", "validate", "--tgz", longhorn(), "--json"],
      keys: ["kind", "name", "version", "digest", "warnings"],
      check: (d) => expect(d).toMatchObject({ kind: "addon", name: "longhorn", version: "1.0.0" }),
    });
    await step({
      command: "productive-k3s-core dev addon validate",
      cli: "core",
      args: ["dev", "addon", "validate", "--source", join(REPO, "fixtures/addons/longhorn"), "--json"],
      keys: ["kind", "name", "version", "chart", "warnings"],
      check: (d) => expect(d.chart).toMatchObject({ path: "charts/longhorn", checked: true }),
    });
  });

  it("addon template", async () => {
    await step({
      command: "productive-k3s-core addon template",
      cli: "core",
      args: ["addon", "template", "--tgz", longhorn(), "--set", "persistence.defaultClassReplicaCount=3", "--json"],
      keys: ["name", "version", "digest", "release", "namespace", "resources", "manifest"],
      check: (d) => expect(d).toMatchObject({ release: "longhorn", namespace: "longhorn-system" }),
    });
  });

  it("dev addon package", async () => {
    await step({
      command: "productive-k3s-core dev addon package",
      cli: "core",
      args: ["dev", "addon", "package", "--source", join(REPO, "fixtures/addons/registry"), "--out", join(root, "dev-out"), "--json"],
      keys: ["file", "name", "version", "digest", "size", "warnings"],
    });
  });

  it("addon install (real, then a dry run) / dev addon install", async () => {
    await step({
      command: "productive-k3s-core addon install",
      cli: "core",
      args: ["addon", "install", "--tgz", certManager(), "--json"],
      keys: [
        "dryRun",
        "action",
        "name",
        "version",
        "digest",
        "cluster",
        "namespace",
        "dependencies",
        "warnings",
        "status",
        "steps",
        "runLog",
      ],
      check: (d) => expect(d).toMatchObject({ dryRun: false, action: "install", name: "cert-manager", status: "deployed" }),
    });
    await step({
      command: "productive-k3s-core addon install",
      name: "productive-k3s-core addon install --dry-run",
      cli: "core",
      args: ["addon", "install", "--tgz", longhorn(), "--dry-run", "--json"],
      keys: ["dryRun", "action", "name", "version", "cluster", "clusterInfo", "dependencies", "commands"],
      check: (d) => {
        expect(d).toMatchObject({ dryRun: true, action: "install", name: "longhorn" });
        expect((d.commands as { step: string; argv: string[] }[]).some((c) => c.argv.includes("upgrade"))).toBe(true);
      },
    });
    await step({
      command: "productive-k3s-core addon install",
      name: "productive-k3s-core addon install --dependency-tgz",
      cli: "core",
      args: ["addon", "install", "--dependency-tgz", certManager(), "--tgz", longhorn(), "--dry-run", "--json"],
      keys: ["dryRun", "action", "name", "cluster", "dependencies", "commands", "dependencyPackages"],
      check: (d) => {
        expect(d).toMatchObject({ dryRun: true, action: "install", name: "longhorn" });
        // cert-manager was installed just before: Core skips it, with the reason.
        expect(d.dependencyPackages).toEqual([
          expect.objectContaining({ action: "skip", name: "cert-manager", installedVersion: "1.2.0" }),
        ]);
      },
    });
    await step({
      command: "productive-k3s-core dev addon install",
      cli: "core",
      args: ["dev", "addon", "install", "--source", join(REPO, "fixtures/addons/longhorn"), "--dry-run", "--json"],
      keys: ["dryRun", "action", "name", "version", "commands"],
    });
    await step({
      command: "productive-k3s-core addon install",
      name: "productive-k3s-core addon install longhorn",
      cli: "core",
      args: ["addon", "install", "--tgz", longhorn(), "--set", "replicas=2", "--json"],
      keys: ["dryRun", "action", "name", "status", "steps"],
      check: (d) => expect(d).toMatchObject({ action: "install", status: "deployed" }),
    });
  });

  it("addon upgrade", async () => {
    await step({
      command: "productive-k3s-core addon upgrade",
      cli: "core",
      args: ["addon", "upgrade", "--tgz", longhorn(), "--set", "replicas=3", "--json"],
      keys: ["dryRun", "action", "name", "version", "previousVersion", "status", "steps"],
      check: (d) => expect(d).toMatchObject({ action: "upgrade", name: "longhorn", status: "deployed" }),
    });
  });

  it("addon status / addon list", async () => {
    await step({
      command: "productive-k3s-core addon status",
      cli: "core",
      args: ["addon", "status", "longhorn", "--json"],
      keys: ["cluster", "addon", "record"],
      check: (d) => expect(d.addon).toMatchObject({ name: "longhorn", version: "1.0.0", status: "deployed" }),
    });
    await step({
      command: "productive-k3s-core addon list",
      cli: "core",
      args: ["addon", "list", "--json"],
      keys: ["cluster", "addons"],
      check: (d) => expect((d.addons as { name: string }[]).map((a) => a.name).sort()).toEqual(["cert-manager", "longhorn"]),
    });
  });

  it("addon history / rollback / validate-installed / backup / backups", async () => {
    await step({
      command: "productive-k3s-core addon history",
      cli: "core",
      args: ["addon", "history", "longhorn", "--json"],
      keys: ["name", "version", "cluster", "current", "revisions"],
      check: (d) => expect((d.revisions as { action: string }[]).map((r) => r.action)).toEqual(["install", "upgrade"]),
    });
    await step({
      command: "productive-k3s-core addon rollback",
      cli: "core",
      // Values are never stored: revision 1's --set is given again (it must match its fingerprint).
      args: ["addon", "rollback", "longhorn", "--set", "replicas=2", "--json"],
      keys: ["dryRun", "action", "name", "version", "previousVersion", "revision", "status", "steps"],
      check: (d) => expect(d).toMatchObject({ action: "rollback", revision: 3, status: "deployed" }),
    });
    await step({
      command: "productive-k3s-core addon validate-installed",
      cli: "core",
      args: ["addon", "validate-installed", "longhorn", "--json"],
      keys: ["name", "version", "cluster", "passed", "steps", "runLog"],
    });
    // registry has a backup phase (and changes this machine: consent).
    await step({
      command: "productive-k3s-core addon install",
      name: "productive-k3s-core addon install registry",
      cli: "core",
      args: ["addon", "install", "--tgz", join(pkgs, "registry-0.1.0.tgz"), "--allow-host-changes", "--json"],
      keys: ["action", "impact", "hostChanges", "revision", "configure"],
      check: (d) => expect(d).toMatchObject({ action: "install", hostChanges: "allowed" }),
    });
    await step({
      command: "productive-k3s-core addon backup",
      cli: "core",
      args: ["addon", "backup", "registry", "--json"],
      keys: ["name", "version", "cluster", "backup"],
      check: (d) => expect(d.backup).toMatchObject({ reason: "manual", kept: true }),
    });
    await step({
      command: "productive-k3s-core addon backups",
      cli: "core",
      args: ["addon", "backups", "registry", "--json"],
      keys: ["name", "cluster", "backups"],
      check: (d) => expect(d.backups).toHaveLength(1),
    });
  });

  it("addon uninstall / addon forget", async () => {
    await step({
      command: "productive-k3s-core addon uninstall",
      cli: "core",
      args: ["addon", "uninstall", "longhorn", "--json"],
      keys: ["name", "version", "cluster", "removed", "steps", "runLog", "warnings"],
      check: (d) => expect(d).toMatchObject({ name: "longhorn", removed: true }),
    });
    await step({
      command: "productive-k3s-core addon forget",
      cli: "core",
      args: ["addon", "forget", "cert-manager", "--json"],
      keys: ["name", "version", "cluster", "forgotten"],
      check: (d) => expect(d).toMatchObject({ name: "cert-manager", forgotten: true }),
    });
  });
});

describe("productive-k3s-infra --json", () => {
  const aws = (): string => join(pkgs, "aws-single-node-basic-1.0.0.tgz");

  it("--version", async () => {
    await step({ command: "productive-k3s-infra", cli: "infra", args: ["--version", "--json"], keys: ["name", "version"] });
  });

  it("profile validate / plan / install / status / outputs / list / destroy", async () => {
    await step({
      command: "productive-k3s-infra profile validate",
      cli: "infra",
      args: ["profile", "validate", "--tgz", aws(), "--env-file", awsEnv, "--json"],
      keys: ["profile", "version", "engine", "digest", "inputs"],
    });
    await step({
      command: "productive-k3s-infra profile plan",
      cli: "infra",
      args: ["profile", "plan", "--tgz", aws(), "--env-file", awsEnv, "--instance", "aws-lab", "--json"],
      keys: ["instance", "profile", "version", "runId", "summary"],
      check: (d) => expect(d).toMatchObject({ instance: "aws-lab", profile: "aws-single-node-basic" }),
    });
    await step({
      command: "productive-k3s-infra profile install",
      cli: "infra",
      args: ["profile", "install", "--tgz", aws(), "--env-file", awsEnv, "--instance", "aws-lab", "--auto-approve", "--json"],
      keys: ["instance", "profile", "version", "engine", "runId", "outputs"],
    });
    await step({
      command: "productive-k3s-infra profile status",
      cli: "infra",
      args: ["profile", "status", "--instance", "aws-lab", "--json"],
      keys: ["instance", "profile", "version", "status", "outputs"],
      check: (d) => expect(d.status).toBe("installed"),
    });
    await step({
      command: "productive-k3s-infra profile outputs",
      cli: "infra",
      args: ["profile", "outputs", "--instance", "aws-lab", "--json"],
      keys: ["instance", "outputs"],
    });
    await step({
      command: "productive-k3s-infra profile list",
      cli: "infra",
      args: ["profile", "list", "--json"],
      keys: ["instances"],
      check: (d) => expect((d.instances as { instance: string }[]).map((i) => i.instance)).toContain("aws-lab"),
    });
    await step({
      command: "productive-k3s-infra profile destroy",
      cli: "infra",
      args: ["profile", "destroy", "--instance", "aws-lab", "--env-file", awsEnv, "--yes", "--json"],
      keys: ["instance", "status"],
      check: (d) => expect(d).toMatchObject({ instance: "aws-lab", status: "destroyed" }),
    });
  });

  it("dev profile validate / package / plan / apply / destroy", async () => {
    const lab = ["--env-file", join(REPO, "fixtures/env/local-lab.env"), "--set", `LAB_DIR=${join(root, "lab")}`];
    await step({
      command: "productive-k3s-infra dev profile validate",
      cli: "infra",
      args: ["dev", "profile", "validate", "--profile-env", labEnvSource, ...lab, "--json"],
      keys: ["profile", "version", "engine", "inputs", "source"],
    });
    await step({
      command: "productive-k3s-infra dev profile package",
      cli: "infra",
      args: ["dev", "profile", "package", "--profile-env", labEnvSource, "--out", join(root, "dev-out"), "--json"],
      keys: ["file", "name", "version", "digest", "size"],
    });
    await step({
      command: "productive-k3s-infra dev profile plan",
      cli: "infra",
      args: ["dev", "profile", "plan", "--profile-env", labEnvSource, ...lab, "--instance", "dev-lab", "--json"],
      keys: ["instance", "profile", "runId", "summary"],
    });
    await step({
      command: "productive-k3s-infra dev profile apply",
      cli: "infra",
      args: ["dev", "profile", "apply", "--profile-env", labEnvSource, ...lab, "--instance", "dev-lab", "--yes", "--json"],
      keys: ["instance", "profile", "engine", "runId", "outputs"],
    });
    await step({
      command: "productive-k3s-infra dev profile destroy",
      cli: "infra",
      args: ["dev", "profile", "destroy", "--profile-env", labEnvSource, ...lab, "--instance", "dev-lab", "--auto-approve", "--json"],
      keys: ["instance", "status"],
    });
  }, 240_000);
});

describe("pk3s --json", () => {
  it("--version", async () => {
    await step({
      command: "pk3s",
      cli: "pk3s",
      args: ["--version", "--json"],
      keys: ["pk3s", "runtimes"],
      check: (d) => expect((d.runtimes as { name: string }[]).map((r) => r.name)).toEqual(["productive-k3s-core", "productive-k3s-infra"]),
    });
  });

  it("catalog index / add / list / update, search", async () => {
    await step({
      command: "pk3s catalog index",
      cli: "pk3s",
      args: ["catalog", "index", www, "--json"],
      keys: ["out", "entries", "added"],
      check: (d) => expect(d.entries).toBe(4),
    });
    await step({
      command: "pk3s catalog add",
      cli: "pk3s",
      args: ["catalog", "add", "local", join(www, "index.yaml"), "--priority", "10", "--json"],
      keys: ["catalog", "configFile"],
      check: (d) => expect(d.catalog).toMatchObject({ name: "local", priority: 10 }),
    });
    await step({ command: "pk3s catalog list", cli: "pk3s", args: ["catalog", "list", "--json"], keys: ["catalogs"] });
    await step({
      command: "pk3s catalog update",
      cli: "pk3s",
      args: ["catalog", "update", "--json"],
      keys: ["catalogs"],
      check: (d) => expect(d.catalogs).toEqual([expect.objectContaining({ name: "local", entries: 4 })]),
    });
    await step({
      command: "pk3s search",
      cli: "pk3s",
      args: ["search", "--json"],
      keys: ["results"],
      check: (d) =>
        expect((d.results as { name: string }[]).map((r) => r.name).sort()).toEqual([
          "aws-single-node-basic",
          "cert-manager",
          "longhorn",
          "registry",
        ]),
    });
  });

  it("addon show / pull / validate / install --dry-run", async () => {
    await step({
      command: "pk3s addon show",
      cli: "pk3s",
      args: ["addon", "show", "longhorn", "--json"],
      keys: ["package"],
      check: (d) => expect(d.package).toMatchObject({ name: "longhorn", type: "addon" }),
    });
    await step({
      command: "pk3s addon pull",
      cli: "pk3s",
      args: ["addon", "pull", "longhorn@1.0.0", "--output", join(root, "pulled"), "--json"],
      keys: ["file", "name", "version", "digest"],
    });
    // Delegated: Core's own JSON document is pk3s's output.
    await step({
      command: "pk3s addon validate",
      cli: "pk3s",
      args: ["addon", "validate", "longhorn", "--json"],
      keys: ["kind", "name", "version", "digest", "warnings"],
    });
    await step({
      command: "pk3s addon template",
      cli: "pk3s",
      args: ["addon", "template", "longhorn", "--json"],
      keys: ["name", "version", "digest", "release", "namespace", "resources", "manifest"],
    });
    await step({
      command: "pk3s addon install",
      cli: "pk3s",
      args: ["addon", "install", "longhorn", "--kubeconfig", kubeconfig, "--dry-run", "--json"],
      keys: ["dryRun", "target", "steps", "exitCode"],
      check: (d) => {
        expect(d).toMatchObject({ ok: true, dryRun: true, exitCode: 0 });
        expect((d.steps as { name: string }[]).map((s) => s.name)).toEqual(["cert-manager", "longhorn"]);
      },
    });
  });

  it("addon history / rollback / backup / backups / test (delegated to Core)", async () => {
    // Core's own documents are pk3s's output (registry was installed by the Core steps above).
    await step({
      command: "pk3s addon history",
      cli: "pk3s",
      args: ["addon", "history", "registry", "--json"],
      keys: ["name", "version", "cluster", "revisions"],
    });
    await step({
      command: "pk3s addon backup",
      cli: "pk3s",
      args: ["addon", "backup", "registry", "--output", join(root, "registry-backup"), "--json"],
      keys: ["name", "version", "cluster", "backup"],
      check: (d) => expect(d.backup).toMatchObject({ reason: "manual", kept: false }),
    });
    await step({ command: "pk3s addon backups", cli: "pk3s", args: ["addon", "backups", "registry", "--json"], keys: ["name", "backups"] });
    await step({ command: "pk3s addon test", cli: "pk3s", args: ["addon", "test", "registry", "--json"], keys: ["name", "passed"] });
    await step({
      command: "pk3s addon rollback",
      cli: "pk3s",
      args: ["addon", "rollback", "registry", "--to", "1", "--dry-run", "--allow-host-changes", "--json"],
      keys: ["dryRun", "action", "commands"],
      check: (d) => expect(d).toMatchObject({ dryRun: true, action: "rollback" }),
    });
  });

  it("addon list / status / upgrade / uninstall (delegated to Core)", async () => {
    const cluster = ["--kubeconfig", kubeconfig];
    const installed = await run("pk3s", ["addon", "install", "longhorn", ...cluster]);
    expect(installed.code, installed.stderr).toBe(0);
    await step({
      command: "pk3s addon list",
      cli: "pk3s",
      args: ["addon", "list", ...cluster, "--json"],
      keys: ["cluster", "addons"],
      // registry was installed by the Core steps above.
      check: (d) => expect((d.addons as { name: string }[]).map((a) => a.name).sort()).toEqual(["cert-manager", "longhorn", "registry"]),
    });
    await step({
      command: "pk3s addon status",
      cli: "pk3s",
      args: ["addon", "status", "longhorn", ...cluster, "--json"],
      keys: ["cluster", "addon", "record"],
    });
    await step({
      command: "pk3s addon upgrade",
      cli: "pk3s",
      args: ["addon", "upgrade", "longhorn", ...cluster, "--set", "replicas=3", "--dry-run", "--json"],
      keys: ["mode", "dryRun", "target", "steps", "exitCode"],
      check: (d) => expect(d).toMatchObject({ mode: "upgrade", dryRun: true, exitCode: 0 }),
    });
    await step({
      command: "pk3s addon uninstall",
      cli: "pk3s",
      args: ["addon", "uninstall", "longhorn", ...cluster, "--json"],
      keys: ["name", "removed"],
      check: (d) => expect(d).toMatchObject({ name: "longhorn", removed: true }),
    });
  });

  it("profile show / pull / validate / plan / install / status / outputs / list / destroy (delegated to Infra)", async () => {
    await step({
      command: "pk3s profile show",
      cli: "pk3s",
      args: ["profile", "show", "aws-single-node-basic", "--json"],
      keys: ["package"],
    });
    await step({
      command: "pk3s profile pull",
      cli: "pk3s",
      args: ["profile", "pull", "aws-single-node-basic", "--output", join(root, "pulled"), "--json"],
      keys: ["file", "name", "version", "digest"],
    });
    const p = ["aws-single-node-basic", "--env-file", awsEnv];
    await step({
      command: "pk3s profile validate",
      cli: "pk3s",
      args: ["profile", "validate", ...p, "--json"],
      keys: ["profile", "version", "inputs"],
    });
    await step({
      command: "pk3s profile plan",
      cli: "pk3s",
      args: ["profile", "plan", ...p, "--instance", "pk3s-lab", "--json"],
      keys: ["instance", "summary"],
    });
    await step({
      command: "pk3s profile install",
      cli: "pk3s",
      args: ["profile", "install", ...p, "--instance", "pk3s-lab", "--yes", "--json"],
      keys: ["instance", "outputs"],
    });
    // An existing instance by its name: no catalog is read.
    await step({
      command: "pk3s profile status",
      cli: "pk3s",
      args: ["profile", "status", "pk3s-lab", "--json"],
      keys: ["instance", "status", "outputs"],
    });
    await step({
      command: "pk3s profile outputs",
      cli: "pk3s",
      args: ["profile", "outputs", "pk3s-lab", "--json"],
      keys: ["instance", "outputs"],
    });
    await step({
      command: "pk3s profile list",
      cli: "pk3s",
      args: ["profile", "list", "--json"],
      keys: ["instances"],
      check: (d) => expect((d.instances as { instance: string }[]).map((i) => i.instance)).toContain("pk3s-lab"),
    });
    await step({
      command: "pk3s profile destroy",
      cli: "pk3s",
      args: ["profile", "destroy", "pk3s-lab", "--env-file", awsEnv, "--auto-approve", "--json"],
      keys: ["instance", "status"],
    });
  });

  it("a failure inside a delegated runtime is still ONE document: the runtime's {ok:false,error}", async () => {
    // Values demanded without an env file: the aws profile's local-override inputs are missing (Infra exits 4).
    const r = await run("pk3s", ["profile", "validate", "aws-single-node-basic", "--json", "--", "--require-inputs"]);
    expect(r.code).toBe(4);
    const doc = oneDocument(r, "pk3s profile validate");
    expect(doc).toMatchObject({ ok: false, error: { code: "E_VALIDATION", exitCode: 4 } });
    expect(r.stderr).toContain("error: missing required inputs for profile aws-single-node-basic");
  });

  it("pack, key generate, sign, verify, addon|profile contents, catalog trust add / list / remove / require", async () => {
    await step({
      command: "pk3s pack",
      cli: "pk3s",
      args: ["pack", join(REPO, "fixtures/addons/registry"), "--out", join(root, "packed"), "--version", "9.9.9", "--json"],
      keys: ["packages"],
      check: (d) => expect(d.packages).toEqual([expect.objectContaining({ name: "registry", version: "9.9.9", kind: "addon" })]),
    });
    const prefix = join(root, "release");
    const key = await step({
      command: "pk3s key generate",
      cli: "pk3s",
      args: ["key", "generate", "--out", prefix, "--json"],
      keys: ["keyId", "publicKey", "publicKeyFile", "secretKeyFile", "encrypted"],
    });
    const packed = join(root, "packed", "registry-9.9.9.tgz");
    await step({
      command: "pk3s sign",
      cli: "pk3s",
      args: ["sign", packed, "--sign-key", `${prefix}.key`, "--json"],
      keys: ["keyId", "signatures"],
    });
    await step({
      command: "pk3s verify",
      cli: "pk3s",
      args: ["verify", packed, "--key", `${prefix}.pub`, "--json"],
      keys: ["file", "signature", "keyId", "algorithm", "trustedComment"],
      check: (d) => expect(d).toMatchObject({ keyId: key.keyId, algorithm: "prehashed" }),
    });
    await step({
      command: "pk3s addon contents",
      cli: "pk3s",
      args: ["addon", "contents", "longhorn", "--json"],
      keys: ["name", "version", "kind", "digest", "catalog", "files"],
    });
    await step({
      command: "pk3s profile contents",
      cli: "pk3s",
      args: ["profile", "contents", "aws-single-node-basic", "--json"],
      keys: ["name", "version", "kind", "digest", "catalog", "files"],
    });
    await step({
      command: "pk3s catalog trust add",
      cli: "pk3s",
      args: ["catalog", "trust", "add", "local", `${prefix}.pub`, "--json"],
      keys: ["catalog", "keys", "added"],
    });
    await step({
      command: "pk3s catalog trust list",
      cli: "pk3s",
      args: ["catalog", "trust", "list", "local", "--json"],
      keys: ["catalog", "keys"],
    });
    await step({
      command: "pk3s catalog trust remove",
      cli: "pk3s",
      args: ["catalog", "trust", "remove", "local", String(key.keyId), "--json"],
      keys: ["catalog", "keys", "removed"],
    });
    await step({
      command: "pk3s catalog trust require",
      cli: "pk3s",
      args: ["catalog", "trust", "require", "off", "--json"],
      keys: ["requireSignatures"],
    });
  });

  it("stack show / lock / plan / install / status / diff / uninstall", async () => {
    const stack = join(work, "stack.yaml");
    writeFileSync(
      stack,
      "apiVersion: addons.productive-k3s.io/v1\nkind: Stack\nmetadata: {name: platform, version: 1.0.0}\nspec:\n  addons:\n    - {name: longhorn, namespace: storage}\n",
    );
    const cluster = ["--kubeconfig", kubeconfig];
    await step({
      command: "pk3s stack show",
      cli: "pk3s",
      args: ["stack", "show", stack, "--json"],
      keys: ["stack"],
      check: (d) => expect(d.stack).toMatchObject({ name: "platform", resolution: "catalog", lock: { state: "absent" } }),
    });
    await step({
      command: "pk3s lock",
      cli: "pk3s",
      args: ["lock", stack, "--json"],
      keys: ["stack", "file", "state", "digest", "changes", "packages"],
      check: (d) => expect((d.packages as { name: string }[]).map((p) => p.name)).toEqual(["cert-manager", "longhorn"]),
    });
    await step({
      command: "pk3s stack plan",
      cli: "pk3s",
      args: ["stack", "plan", stack, ...cluster, "--json"],
      keys: ["stack", "lock", "target", "addons", "notInStack"],
      // cert-manager is still on the cluster from the Core steps above, installed on its own.
      check: (d) =>
        expect((d.addons as { name: string; action: string }[]).map((a) => `${a.name}:${a.action}`)).toEqual([
          "cert-manager:unchanged",
          "longhorn:install",
        ]),
    });
    await step({
      command: "pk3s stack install",
      cli: "pk3s",
      args: ["stack", "install", stack, ...cluster, "--frozen", "--json"],
      keys: ["stack", "lock", "target", "addons", "notInStack", "pruned", "exitCode"],
      check: (d) =>
        expect((d.addons as { name: string; outcome: string }[]).map((a) => `${a.name}:${a.outcome}`)).toEqual([
          "cert-manager:unchanged",
          "longhorn:installed",
        ]),
    });
    await step({
      command: "pk3s stack status",
      cli: "pk3s",
      args: ["stack", "status", stack, ...cluster, "--json"],
      keys: ["stack", "lock", "target", "addons", "notInStack", "complete"],
      check: (d) => expect(d.complete).toBe(true),
    });
    await step({
      command: "pk3s stack diff",
      cli: "pk3s",
      args: ["stack", "diff", stack, ...cluster, "--frozen", "--json"],
      keys: ["drift", "stack", "lock", "target", "addons", "notInStack", "exitCode"],
      check: (d) => expect(d.drift).toBe(false),
    });
    await step({
      command: "pk3s stack uninstall",
      cli: "pk3s",
      args: ["stack", "uninstall", stack, ...cluster, "--json"],
      keys: ["stack", "target", "steps", "absent", "kept", "exitCode"],
      // Only what the stack lists or installed: cert-manager was there before it, so it stays.
      check: (d) => {
        expect((d.steps as { name: string }[]).map((s) => s.name)).toEqual(["longhorn"]);
        expect(d.kept).toEqual(["cert-manager"]);
      },
    });
  });

  it("push, registry login / set / list / logout (a real OCI registry on loopback)", async () => {
    const registry = await startOciRegistry();
    try {
      await step({
        command: "pk3s push",
        cli: "pk3s",
        args: ["push", join(pkgs, "longhorn-1.0.0.tgz"), `oci://${registry.host}/platform/addons`, "--json"],
        keys: ["name", "version", "kind", "reference", "pinned", "digest", "layer", "action", "signature", "namesIndex"],
        check: (d) =>
          expect(d).toMatchObject({
            name: "longhorn",
            action: "pushed",
            reference: `oci://${registry.host}/platform/addons/longhorn:1.0.0`,
          }),
      });
      await step({
        command: "pk3s registry login",
        cli: "pk3s",
        args: ["registry", "login", registry.host, "--username", "ci", "--password-stdin", "--json"],
        stdin: "example-password",
        keys: ["registry", "username", "file", "check"],
        check: (d) => expect(d).toMatchObject({ registry: registry.host, username: "ci", check: "not-required" }),
      });
      await step({
        command: "pk3s registry set",
        cli: "pk3s",
        args: ["registry", "set", registry.host, "--plain-http", "--json"],
        keys: ["registry", "settings", "file"],
        check: (d) => expect(d.settings).toEqual({ plainHttp: true }),
      });
      await step({
        command: "pk3s registry list",
        cli: "pk3s",
        args: ["registry", "list", "--json"],
        keys: ["registries", "dockerConfig"],
        check: (d) => expect(d.registries).toEqual([expect.objectContaining({ registry: registry.host, username: "ci", plainHttp: true })]),
      });
      await step({
        command: "pk3s registry logout",
        cli: "pk3s",
        args: ["registry", "logout", registry.host, "--json"],
        keys: ["registry", "removed", "file"],
        check: (d) => expect(d.removed).toBe(true),
      });
    } finally {
      await registry.stop();
    }
  });

  it("catalog prune / remove, completion", async () => {
    await step({
      command: "pk3s catalog prune",
      cli: "pk3s",
      args: ["catalog", "prune", www, "--keep-latest", "1", "--dry-run", "--json"],
      keys: ["dryRun", "removed", "kept"],
    });
    await step({ command: "pk3s catalog remove", cli: "pk3s", args: ["catalog", "remove", "local", "--json"], keys: ["removed"] });
    await step({
      command: "pk3s completion",
      cli: "pk3s",
      args: ["completion", "bash", "--json"],
      keys: ["shell", "script"],
    });
  });
});

describe("failures with --json", () => {
  it.each([
    ["pk3s", ["addon", "show", "ghost", "--json"], 3, "E_NOT_FOUND"],
    ["pk3s", ["addon", "install", "--json"], 2, "E_USAGE"],
    ["core", ["addon", "validate", "--tgz", "missing.tgz", "--json"], 3, "E_NOT_FOUND"],
    ["infra", ["profile", "outputs", "--instance", "ghost", "--json"], 3, "E_NOT_FOUND"],
  ] as const)("%s %j: {ok:false,error} on stdout, the human error on stderr", async (cli, args, code, errorCode) => {
    const r = await run(cli, args);
    expect(r.code).toBe(code);
    const doc = oneDocument(r, args.join(" "));
    expect(doc).toEqual({ ok: false, error: expect.objectContaining({ code: errorCode, exitCode: code, message: expect.any(String) }) });
    const error = doc.error as { message: string; where?: string; hint?: string };
    expect(r.stderr).toContain(`error: ${error.message}`);
    if (error.where !== undefined) expect(r.stderr).toContain(`where: ${error.where}`);
    if (error.hint !== undefined) expect(r.stderr).toContain(`hint: ${error.hint}`);
  });
});

describe("coverage", () => {
  it("every runnable command of the three CLIs was run with --json above", () => {
    const runnable = commandEntries()
      .filter((e) => e.runnable)
      .map((e) => e.label);
    expect(runnable.filter((l) => !covered.has(l))).toEqual([]);
  });
});
