/**
 * Remote charts embedded at pack time (issue 13, item 4): a chart made by `helm create` + `helm package`,
 * served by a loopback HTTP chart repository (`helm repo index`) and pushed with `helm push` to a REAL OCI
 * registry (Debian docker-registry, fixtures/oci-registry.ts); `dev addon package` pulls it with the real
 * helm, checks spec.chart.digest and embeds it as charts/<name>/.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type OciRegistry, ociRegistryAvailable, startOciRegistry } from "../../../fixtures/oci-registry.js";
import { createSandbox, type Sandbox } from "./helpers/harness.js";
import { helm, helmCreate, realHelmEnv, tools, writeSource } from "./helpers/real-helm-charts.js";

const registryAvailable = ociRegistryAvailable();
if (!registryAvailable.ok) process.stderr.write(`OCI registry tests skipped: ${registryAvailable.skip}\n`);

let sb: Sandbox;
let env: Record<string, string>;
let registry: OciRegistry;
let repo: { server: Server; url: string; requests: string[] };
/** The chart .tgz as `helm package` made it, and its sha256. */
let chartTgz: string;
let digest: string;

/** A loopback HTTP chart repository: serves the files of `dir`, records each request path. */
async function serveDirectory(dir: string): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push(path);
    readFile(join(dir, path.replace(/^\/+/, "").replace(/\.\./g, "")))
      .then((body) => {
        res.writeHead(200, { "content-length": body.length });
        res.end(body);
      })
      .catch(() => {
        res.writeHead(404);
        res.end("not found");
      });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

beforeAll(async () => {
  if (!tools.ok || !registryAvailable.ok) return;
  sb = await createSandbox();
  env = realHelmEnv(sb.root);
  helmCreate(sb.root, join(sb.root, "chart-src"), "podinfo");
  const dist = join(sb.root, "dist");
  await mkdir(dist);
  helm(sb.root, ["package", join(sb.root, "chart-src/charts/podinfo"), "--destination", dist]);
  chartTgz = join(dist, "podinfo-0.1.0.tgz");
  digest = `sha256:${createHash("sha256")
    .update(await readFile(chartTgz))
    .digest("hex")}`;

  repo = await serveDirectory(dist);
  helm(sb.root, ["repo", "index", dist, "--url", repo.url]);
  registry = await startOciRegistry();
  helm(sb.root, ["push", chartTgz, `oci://${registry.host}/charts`, "--plain-http"]);
});

afterAll(async () => {
  await registry?.stop();
  await new Promise<void>((ok) => (repo === undefined ? ok() : repo.server.close(() => ok())));
  await sb?.cleanup();
});

/** Unpack a package with the system tar (an independent reader) and return its root. */
function untar(tgz: string, dir: string): string {
  execFileSync("mkdir", ["-p", dir]);
  execFileSync("tar", ["-xzf", tgz, "-C", dir]);
  return dir;
}

const ociChart = (d = digest) =>
  `    ref: oci://${registry.host}/charts/podinfo\n    version: 0.1.0\n    digest: ${d}\n    values: [values-prod.yaml]`;
const valuesFile = { "values-prod.yaml": "replicaCount: 2\n" };

describe.skipIf(!tools.ok || !registryAvailable.ok)("remote charts, embedded by dev addon package", () => {
  it("oci://: pulled with --plain-http, digest checked, embedded as charts/<name>; addon.yaml points at it and keeps the source", async () => {
    const src = await writeSource(join(sb.root, "src-oci"), { chart: ociChart(), files: valuesFile });
    const out = join(sb.root, "out-oci");
    const r = await sb.run(["dev", "addon", "package", "--source", src, "--out", out, "--plain-http", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { file: string; digest: string; chart: Record<string, unknown> };
    expect(doc.chart).toMatchObject({
      path: "charts/podinfo",
      checked: true,
      embedded: { ref: `oci://${registry.host}/charts/podinfo`, name: "podinfo", version: "0.1.0", digest },
    });

    // Every file of the chart archive, byte for byte, under charts/podinfo (system tar reads both).
    const pkg = untar(doc.file, join(sb.root, "unpacked-oci"));
    const original = join(untar(chartTgz, join(sb.root, "unpacked-chart")), "podinfo");
    const chartFiles = execFileSync("tar", ["-tzf", chartTgz], { encoding: "utf8" })
      .split("\n")
      .filter((f) => f !== "" && !f.endsWith("/"))
      .map((f) => f.replace(/^podinfo\//, ""));
    expect(chartFiles).toContain("templates/deployment.yaml");
    for (const f of chartFiles) expect(await readFile(join(pkg, "charts/podinfo", f)), f).toEqual(await readFile(join(original, f)));
    expect((await readdir(join(pkg, "charts/podinfo/templates"))).sort()).toEqual((await readdir(join(original, "templates"))).sort());
    const manifestText = await readFile(join(pkg, "addon.yaml"), "utf8");
    expect(manifestText).toContain("  # the chart this add-on installs\n  chart:\n    path: charts/podinfo\n");
    expect((parse(manifestText) as { spec: { chart: unknown } }).spec.chart).toEqual({
      path: "charts/podinfo",
      values: ["values-prod.yaml"],
      source: { ref: `oci://${registry.host}/charts/podinfo`, name: "podinfo", version: "0.1.0", digest },
    });
    expect(existsSync(join(src, "charts"))).toBe(false); // the source is never written to

    // The package is self-contained: validated and rendered from its own bytes.
    expect((await sb.run(["addon", "validate", "--tgz", doc.file], env)).code).toBe(0);
    const t = await sb.run(["addon", "template", "--tgz", doc.file], env);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain("# Source: podinfo/templates/deployment.yaml");
    expect(t.stdout).toMatch(/kind: Deployment\nmetadata:\n {2}name: web-podinfo[\s\S]*replicas: 2\n/);

    // Packing is deterministic with an embedded chart too.
    const again = await sb.run(
      ["dev", "addon", "package", "--source", src, "--out", join(sb.root, "out-oci-2"), "--plain-http", "--json"],
      env,
    );
    expect((JSON.parse(again.stdout) as { digest: string }).digest).toBe(doc.digest);
  });

  it("dev addon install --source embeds the chart the same way before the package flow (dry run)", async () => {
    const src = await writeSource(join(sb.root, "src-install"), { chart: ociChart(), files: valuesFile });
    const r = await sb.run(["dev", "addon", "install", "--source", src, "--plain-http", "--dry-run", "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { commands: { step: string; argv: string[] }[]; rendered: string[] };
    expect(doc.commands.find((c) => c.step === "helm")?.argv.slice(1, 5)).toEqual(["upgrade", "--install", "web", "./charts/podinfo"]);
    expect(doc.rendered).toContain("Deployment/web-podinfo");
  });

  it("repo + name: pulled from the loopback chart repository through its index.yaml", async () => {
    const src = await writeSource(join(sb.root, "src-repo"), {
      chart: `    repo: ${repo.url}\n    name: podinfo\n    version: 0.1.0\n    digest: ${digest}`,
    });
    const before = repo.requests.length;
    const r = await sb.run(["dev", "addon", "package", "--source", src, "--out", join(sb.root, "out-repo"), "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(repo.requests.slice(before)).toEqual(["/index.yaml", "/podinfo-0.1.0.tgz"]);
    const file = (JSON.parse(r.stdout) as { file: string }).file;
    const pkg = untar(file, join(sb.root, "unpacked-repo"));
    expect((parse(await readFile(join(pkg, "addon.yaml"), "utf8")) as { spec: { chart: unknown } }).spec.chart).toEqual({
      path: "charts/podinfo",
      source: { repo: repo.url, name: "podinfo", version: "0.1.0", digest },
    });
    expect(existsSync(join(pkg, "charts/podinfo/templates/service.yaml"))).toBe(true);
  });

  it("a wrong digest refuses with exit 6 and leaves nothing behind (no package, no temp folder)", async () => {
    const wrong = `sha256:${"0".repeat(64)}`;
    const src = await writeSource(join(sb.root, "src-wrong"), { chart: ociChart(wrong), files: valuesFile });
    const out = join(sb.root, "out-wrong");
    const tmp = join(sb.root, "tmp-wrong");
    await mkdir(tmp);
    const r = await sb.run(["dev", "addon", "package", "--source", src, "--out", out, "--plain-http"], { ...env, TMPDIR: tmp });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(
      `error: the chart oci://${registry.host}/charts/podinfo 0.1.0 has digest ${digest}, but spec.chart.digest pins ${wrong}`,
    );
    expect(existsSync(out)).toBe(false);
    expect(await readdir(tmp)).toEqual([]);
    expect(existsSync(join(src, "charts"))).toBe(false);
    // validate pulls and checks the same way.
    expect((await sb.run(["dev", "addon", "validate", "--source", src, "--plain-http"], env)).code).toBe(6);
  });

  it("a remote chart without digest is a validation error naming spec.chart.digest", async () => {
    const src = await writeSource(join(sb.root, "src-nodigest"), {
      chart: `    ref: oci://${registry.host}/charts/podinfo\n    version: 0.1.0`,
    });
    const r = await sb.run(["dev", "addon", "package", "--source", src, "--out", join(sb.root, "out-nodigest"), "--plain-http"], env);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /error: \S+src-nodigest\/addon\.yaml:10:3: spec\.chart\.digest: required for a remote chart: sha256:<hex> of the chart \.tgz/,
    );
  });

  it("a plain-HTTP registry without --plain-http, and an unknown version, fail with what to do", async () => {
    const src = await writeSource(join(sb.root, "src-tls"), { chart: ociChart(), files: valuesFile });
    const r = await sb.run(["dev", "addon", "package", "--source", src, "--out", join(sb.root, "out-tls")], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("server gave HTTP response to HTTPS client");
    expect(r.stderr).toContain("hint: the registry speaks plain HTTP: pass --plain-http");

    const missing = await writeSource(join(sb.root, "src-missing"), {
      chart: `    ref: oci://${registry.host}/charts/podinfo\n    version: 9.9.9\n    digest: ${digest}`,
    });
    const m = await sb.run(["dev", "addon", "package", "--source", missing, "--out", join(sb.root, "out-missing"), "--plain-http"], env);
    expect(m.code).toBe(3);
    expect(m.stderr).toContain(`error: cannot pull the chart oci://${registry.host}/charts/podinfo 9.9.9:`);
  });

  it("without helm: package cannot embed the chart (exit 5); validate warns that it was not pulled", async () => {
    const src = await writeSource(join(sb.root, "src-nohelm"), { chart: ociChart(), files: valuesFile });
    const noHelm = { ...env, PK3S_HELM_BIN: join(sb.root, "no-helm") };
    const p = await sb.run(["dev", "addon", "package", "--source", src, "--out", join(sb.root, "out-nohelm")], noHelm);
    expect(p.code).toBe(5);
    expect(p.stderr).toContain(`error: helm is needed to pull the remote chart oci://${registry.host}/charts/podinfo 0.1.0`);
    const v = await sb.run(["dev", "addon", "validate", "--source", src], noHelm);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain("chart not checked (helm lint, helm template, pulling the remote chart)");
  });
});
