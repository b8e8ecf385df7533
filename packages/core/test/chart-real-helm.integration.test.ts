/**
 * The chart checks of `dev addon validate|package` and the rendering of `addon template` and
 * `addon install --dry-run` (issue 13, items 2 and 3), run through the built binary with the REAL helm v4
 * on charts made by `helm create`. kubectl stays the stub (a dry run only probes the cluster).
 */
import { existsSync } from "node:fs";
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { createSandbox, fixtures, type Sandbox } from "./helpers/harness.js";
import { helmCreate, realHelmEnv, tools, writeSource } from "./helpers/real-helm-charts.js";

interface Problem {
  file?: string;
  line?: number;
  column?: number;
  message: string;
  severity: string;
}
interface ErrorDoc {
  ok: false;
  error: { exitCode: number; message: string; problems?: Problem[]; hint?: string };
}

let sb: Sandbox;
let env: Record<string, string>;
/** A source whose chart comes from `helm create web`, with a package values file. */
let source: string;

beforeAll(async () => {
  if (!tools.ok) return;
  sb = await createSandbox();
  env = realHelmEnv(sb.root);
  source = await writeSource(join(sb.root, "src"), {
    chart: "    path: charts/web\n    values: [values-prod.yaml]",
    files: { "values-prod.yaml": "replicaCount: 3\n" },
  });
  helmCreate(sb.root, source, "web");
  // A switch that makes the chart refuse to render, the way real charts guard unsupported settings.
  await writeFile(join(source, "charts/web/templates/boom.yaml"), '{{- if .Values.boom }}{{ fail "boom is not supported" }}{{- end }}\n');
});
afterAll(async () => {
  await sb?.cleanup();
});

/** A copy of the good source, changed by `edit`. */
async function variant(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(sb.root, name);
  await cp(source, dir, { recursive: true });
  await edit(dir);
  return dir;
}

const objects = (manifest: string): Record<string, unknown>[] =>
  parseAllDocuments(manifest)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => o !== null);

interface K8sObject {
  kind?: string;
  metadata?: { name?: string };
  spec?: { replicas?: number; ports?: { port?: number }[] };
}
const find = (manifest: string, kind: string): K8sObject | undefined =>
  objects(manifest).find((o) => o.kind === kind) as K8sObject | undefined;

describe.skipIf(!tools.ok)("dev addon validate|package: helm lint and helm template with the real helm", () => {
  it("a chart made by helm create passes, checked with the package's values", async () => {
    const r = await sb.run(["dev", "addon", "validate", "--source", source, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { chart: { path: string; checked: boolean; resources: string[] }; warnings: unknown[] };
    expect(doc.chart).toMatchObject({ path: "charts/web", checked: true });
    expect(doc.chart.resources).toEqual(
      expect.arrayContaining(["ServiceAccount/web", "Service/web", "Deployment/web", "Pod/web-test-connection"]),
    );
    expect(doc.warnings).toEqual([]);
    const human = await sb.run(["dev", "addon", "validate", "--source", source], env);
    expect(human.stdout).toContain(`chart: charts/web: helm lint and helm template ok, ${doc.chart.resources.length} objects`);
  });

  it("a template error is a validation error (exit 4) naming the template file and line; package writes nothing", async () => {
    const dir = await variant("src-broken", async (d) => {
      const file = join(d, "charts/web/templates/service.yaml");
      await writeFile(
        file,
        (await readFile(file, "utf8")).replace('{{ include "web.fullname" . }}', '{{ include "web.fullname" . }}{{ .Values.nope.deeper }}'),
      );
    });
    const r = await sb.run(["dev", "addon", "validate", "--source", dir, "--json"], env);
    expect(r.code).toBe(4);
    const err = (JSON.parse(r.stdout) as ErrorDoc).error;
    expect(err.message).toBe("the chart of web 1.0.0 does not pass helm lint");
    expect(err.problems).toEqual([
      expect.objectContaining({
        file: `${dir}/charts/web/templates/service.yaml`,
        line: 4,
        severity: "error",
        message: expect.stringContaining("nil pointer evaluating interface {}.deeper"),
      }),
    ]);
    const out = join(sb.root, "out-broken");
    const p = await sb.run(["dev", "addon", "package", "--source", dir, "--out", out], env);
    expect(p.code).toBe(4);
    expect(p.stderr).toContain(`error: ${dir}/charts/web/templates/service.yaml:4:`);
    expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
  });

  it("a package values file that does not parse is named with its line", async () => {
    const dir = await variant("src-values", (d) => writeFile(join(d, "values-prod.yaml"), "replicaCount: 3\nresources: [\n"));
    const r = await sb.run(["dev", "addon", "validate", "--source", dir, "--json"], env);
    expect(r.code).toBe(4);
    const [problem] = (JSON.parse(r.stdout) as ErrorDoc).error.problems ?? [];
    expect(problem).toMatchObject({ file: `${dir}/values-prod.yaml`, line: 2, severity: "error" });
  });

  it("a rendered template that is not YAML names the template, not the rendered output's line", async () => {
    const dir = await variant("src-yaml", (d) =>
      writeFile(join(d, "charts/web/templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n"),
    );
    const r = await sb.run(["dev", "addon", "validate", "--source", dir, "--json"], env);
    expect(r.code).toBe(4);
    const [problem] = (JSON.parse(r.stdout) as ErrorDoc).error.problems ?? [];
    expect(problem).toEqual({
      file: `${dir}/charts/web/templates/cm.yaml`,
      message: expect.stringContaining("helm lint: unable to parse YAML"),
      severity: "error",
    });
  });

  it("helm lint warnings are warnings, and errors with --strict", async () => {
    const dir = await variant("src-warning", (d) =>
      writeFile(join(d, "charts/web/templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n"),
    );
    const r = await sb.run(["dev", "addon", "validate", "--source", dir, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    const { warnings } = JSON.parse(r.stdout) as { warnings: Problem[] };
    expect(warnings).toEqual([
      expect.objectContaining({
        file: `${dir}/charts/web/templates/cm.yaml`,
        severity: "warning",
        message: expect.stringContaining("object name does not conform to Kubernetes naming requirements"),
      }),
    ]);
    const strict = await sb.run(["dev", "addon", "validate", "--source", dir, "--strict"], env);
    expect(strict.code).toBe(4);
    expect(strict.stderr).toContain(`error: ${dir}/charts/web/templates/cm.yaml: helm lint: object name does not conform`);
  });

  it("without helm the checks are skipped with a warning; --require-helm makes it exit 5", async () => {
    const noHelm = { ...env, PK3S_HELM_BIN: join(sb.root, "no-helm") };
    const r = await sb.run(["dev", "addon", "validate", "--source", source, "--json"], noHelm);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { chart: unknown; warnings: Problem[] };
    expect(doc.chart).toEqual({ path: "charts/web", checked: false });
    expect(doc.warnings[0]?.message).toMatch(/^chart not checked \(helm lint, helm template\): .*; --require-helm makes this an error$/);
    const required = await sb.run(["dev", "addon", "validate", "--source", source, "--require-helm"], noHelm);
    expect(required.code).toBe(5);
    expect(required.stderr).toContain("error: helm is needed to lint and render the chart (--require-helm)");
    const out = join(sb.root, "out-nohelm");
    const p = await sb.run(["dev", "addon", "package", "--source", source, "--out", out, "--require-helm"], noHelm);
    expect(p.code).toBe(5);
    expect(existsSync(out)).toBe(false);
    expect((await sb.run(["dev", "addon", "package", "--source", source, "--out", out], noHelm)).code).toBe(0);
  });
});

describe.skipIf(!tools.ok)("addon template and install --dry-run with the real helm", () => {
  let tgz: string;
  let userValues: string;
  beforeAll(async () => {
    const out = join(sb.root, "out-template");
    const packed = await sb.run(["dev", "addon", "package", "--source", source, "--out", out, "--json"], env);
    expect(packed.code, packed.stderr).toBe(0);
    tgz = (JSON.parse(packed.stdout) as { file: string }).file;
    userValues = join(sb.root, "user.yaml");
    await writeFile(userValues, "replicaCount: 5\nservice:\n  port: 8080\n");
  });

  it("prints the manifests with the package values, then -f, then --set", async () => {
    const plain = await sb.run(["addon", "template", "--tgz", tgz], env);
    expect(plain.code, plain.stderr).toBe(0);
    expect(find(plain.stdout, "Deployment")).toMatchObject({ metadata: { name: "web" }, spec: { replicas: 3 } });

    const r = await sb.run(
      ["addon", "template", "--tgz", tgz, "-f", userValues, "--set", "service.port=9090", "-n", "shop", "--release-name", "r1"],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith("---\n# Source: web/templates/")).toBe(true);
    expect(find(r.stdout, "Deployment")).toMatchObject({ metadata: { name: "r1-web" }, spec: { replicas: 5 } });
    expect(find(r.stdout, "Service")?.spec?.ports?.[0]?.port).toBe(9090);
    expect(r.stdout).toContain('"r1-web-test-connection"'); // the chart's helm.sh/hook test pod: install creates it too
  });

  it("renders exactly what install would apply: the dry run's own helm argv gives the same manifests", async () => {
    const dry = await sb.run(
      ["addon", "install", "--tgz", tgz, "-f", userValues, "--set", "service.port=9090", "--dry-run", "--json"],
      env,
    );
    expect(dry.code, dry.stderr).toBe(0);
    const doc = JSON.parse(dry.stdout) as { commands: { step: string; argv: string[] }[]; rendered: string[] };
    const install = doc.commands.find((c) => c.step === "helm")?.argv ?? [];
    // The values part of `helm upgrade --install`: package values file, user file, --set, in that order.
    const values = install.slice(install.indexOf("10m") + 1, install.indexOf("--kubeconfig"));
    expect(values).toEqual(["-f", "values-prod.yaml", "-f", userValues, "--set", "service.port=9090"]);

    const template = await sb.run(
      ["addon", "template", "--tgz", tgz, "-f", userValues, "--set", "service.port=9090", "--kube-version", "v1.31.4+k3s1", "--json"],
      env,
    );
    expect(template.code, template.stderr).toBe(0);
    const rendered = JSON.parse(template.stdout) as { manifest: string; resources: string[]; release: string; namespace: string };
    expect(rendered).toMatchObject({ release: "web", namespace: "web" });
    expect(doc.rendered).toEqual(rendered.resources);
    // helm itself, given install's chart, release, namespace and values args, prints the same bytes.
    const { execFileSync } = await import("node:child_process");
    const direct = execFileSync(
      env.PK3S_HELM_BIN as string,
      ["template", "web", "./charts/web", "--namespace", "web", "--include-crds", "--kube-version", "v1.31.4+k3s1", ...values],
      {
        cwd: source,
        env: { ...process.env, ...env },
        encoding: "utf8",
      },
    );
    expect(rendered.manifest).toBe(direct);
  });

  it("a chart that does not render stops the dry run (exit 4) before any step, naming the template", async () => {
    const dry = await sb.run(["addon", "install", "--tgz", tgz, "--set", "boom=true", "--dry-run"], env);
    expect(dry.code).toBe(4);
    expect(dry.stderr).toContain("error: the chart of web 1.0.0 does not render");
    expect(dry.stderr).toMatch(
      /error: web-1\.0\.0\.tgz\/charts\/web\/templates\/boom\.yaml:1:\d+: helm template: execution error at \(web\/templates\/boom\.yaml:1:\d+\): boom is not supported/,
    );
    expect(dry.stdout).toBe("");
    expect(existsSync(sb.hookLog)).toBe(false);
    expect(await sb.record("web")).toBeUndefined();

    const t = await sb.run(["addon", "template", "--tgz", tgz, "--set", "boom=true", "--json"], env);
    expect(t.code).toBe(4);
    expect((JSON.parse(t.stdout) as ErrorDoc).error.problems?.[0]).toMatchObject({
      file: "web-1.0.0.tgz/charts/web/templates/boom.yaml",
      line: 1,
    });
  });

  it("an add-on without a chart has nothing to render (exit 2); a missing helm is exit 5", async () => {
    const shell = await sb.pack(join(fixtures, "addons/cert-manager"));
    const r = await sb.run(["addon", "template", "--tgz", shell], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: cert-manager 1.2.0 has no chart (spec.chart): there is nothing to render");
    const noHelm = await sb.run(["addon", "template", "--tgz", tgz], { ...env, PK3S_HELM_BIN: join(sb.root, "no-helm") });
    expect(noHelm.code).toBe(5);
  });
});
