/**
 * spec.chart naming a remote chart (ref: oci://… or repo + name, pinned by version and digest), what a
 * source may say and a package may not, and extractFiles (the package extractor's rules for a chart .tgz).
 */
import { existsSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractFiles } from "../src/archive/extract.js";
import { packPackage } from "../src/archive/pack.js";
import { loadPackageDir } from "../src/archive/package-validate.js";
import { formatProblem, IntegrityError, ValidationError } from "../src/errors.js";
import { parseAddonManifest } from "../src/format/manifest-parse.js";
import { tempDir, writeTree } from "./helpers/source-tree.js";
import { entry, file, tgz } from "./helpers/tar-builder.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const addon = (chart: string) => `apiVersion: addons.productive-k3s.io/v1
kind: Addon
metadata:
  name: web
  version: 1.0.0
  category: test
spec:
  type: helm
  chart:
${chart}
`;

function problems(chart: string): string[] {
  try {
    parseAddonManifest(addon(chart), "a.yaml");
  } catch (err) {
    if (err instanceof ValidationError) return err.problems.map(formatProblem);
    throw err;
  }
  return [];
}

describe("spec.chart: a remote chart", () => {
  it("ref and repo are normalised to the path they are embedded at, the pin kept in remote", () => {
    const oci = parseAddonManifest(
      addon(`    ref: oci://registry.example:5000/charts/podinfo\n    version: 6.5.0\n    digest: ${DIGEST}`),
      "a.yaml",
    );
    expect(oci.manifest.spec.chart).toEqual({
      path: "charts/podinfo",
      releaseName: "web",
      namespace: "web",
      values: [],
      remote: { ref: "oci://registry.example:5000/charts/podinfo", name: "podinfo", version: "6.5.0", digest: DIGEST },
    });
    const repo = parseAddonManifest(
      addon(`    repo: https://charts.example/stable\n    name: podinfo\n    version: v6.5.0\n    digest: ${DIGEST}\n    namespace: apps`),
      "a.yaml",
    );
    expect(repo.manifest.spec.chart).toMatchObject({
      path: "charts/podinfo",
      namespace: "apps",
      remote: { repo: "https://charts.example/stable", name: "podinfo", version: "v6.5.0", digest: DIGEST },
    });
  });

  it("says exactly what is missing or wrong, at the field", () => {
    expect(problems("    ref: oci://r.example/charts/podinfo\n    version: 1.0.0")).toEqual([
      "error: a.yaml:9:3: spec.chart.digest: required for a remote chart: sha256:<hex> of the chart .tgz (the digest of its entry in the repository's index.yaml, or `sha256sum <chart>-<version>.tgz`), so a package always embeds the bytes its author checked, found nothing",
    ]);
    expect(problems(`    ref: oci://r.example/charts/podinfo\n    digest: ${DIGEST}`)).toEqual([
      "error: a.yaml:9:3: spec.chart.version: required for a remote chart: its exact version, e.g. 1.2.3, found nothing",
    ]);
    expect(problems(`    repo: https://charts.example\n    version: 1.0.0\n    digest: ${DIGEST}`)).toEqual([
      "error: a.yaml:9:3: spec.chart.name: required with repo: the chart's name in the repository, found nothing",
    ]);
    expect(problems(`    ref: oci://r.example/charts/podinfo:1.0.0\n    version: 1.0.0\n    digest: ${DIGEST}`)[0]).toContain(
      "spec.chart.ref: expected oci://<registry>/<path>/<chart> without a tag or digest (the version goes in spec.chart.version)",
    );
    expect(problems(`    ref: oci://r.example/charts/podinfo\n    version: ^1.0.0\n    digest: ${DIGEST}`)[0]).toContain(
      "spec.chart.version: expected the chart's exact version, e.g. 1.2.3 (a range is not a pin)",
    );
    expect(problems(`    ref: oci://r.example/charts/podinfo\n    version: 1.0.0\n    digest: sha256:XYZ`)[0]).toContain(
      "spec.chart.digest: expected sha256:<64 lowercase hex digits>: the sha256 of the chart .tgz",
    );
    expect(problems(`    path: charts/web\n    digest: ${DIGEST}`)[0]).toContain(
      "spec.chart.digest: digest is for a remote chart (ref or repo); a chart inside the package is named by path alone",
    );
    expect(problems(`    path: charts/web\n    ref: oci://r.example/charts/web`)[0]).toContain(
      "spec.chart.ref: expected one of path, ref and repo, found path and ref",
    );
    expect(problems("    releaseName: web")).toEqual([
      "error: a.yaml:10:5: spec.chart: expected path (a chart inside the package), ref (oci://…) or repo (https://… with name), found none of them",
    ]);
  });
});

describe("a remote chart in a source and in a package", () => {
  let work: string;
  beforeEach(async () => {
    work = await tempDir();
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });
  const remote = `    ref: oci://r.example/charts/podinfo\n    version: 1.0.0\n    digest: ${DIGEST}\n    values: [values.yaml]`;

  it("a source may name one (its values files are still checked); a package, or a direct pack, may not", async () => {
    await writeTree(work, { "addon.yaml": addon(remote), "values.yaml": "a: 1\n" });
    const source = await loadPackageDir(work, { allowRemoteChart: true });
    expect(source.references).toEqual(["values.yaml"]);

    const asPackage = await loadPackageDir(work, { label: "pkg" }).catch((e: unknown) => e);
    expect(asPackage).toBeInstanceOf(ValidationError);
    expect((asPackage as ValidationError).problems.map(formatProblem)).toEqual([
      "error: pkg/addon.yaml:10:10: spec.chart.ref: expected the chart inside the package (spec.chart.path): a remote chart is pulled and embedded by `productive-k3s-core dev addon package`",
    ]);
    const out = join(work, "out");
    await expect(packPackage(work, out)).rejects.toBeInstanceOf(ValidationError);
    expect(existsSync(out)).toBe(false);
  });

  it("a source whose charts/<name> already exists is refused (embedding would overwrite it)", async () => {
    await writeTree(work, { "addon.yaml": addon(remote), "values.yaml": "a: 1\n", "charts/podinfo/Chart.yaml": "name: podinfo\n" });
    const err = await loadPackageDir(work, { allowRemoteChart: true, label: "src" }).catch((e: unknown) => e);
    expect((err as ValidationError).problems.map(formatProblem)).toEqual([
      "error: src/addon.yaml:10:10: spec.chart.ref: charts/podinfo already exists in the source: the remote chart is embedded there when packing; remove it or use path",
    ]);
  });
});

describe("extractFiles: a chart .tgz under the package rules", () => {
  let work: string;
  beforeEach(async () => {
    work = await tempDir();
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("extracts an archive without a manifest, files under one top directory", async () => {
    const archive = join(work, "podinfo-1.0.0.tgz");
    await writeFile(archive, tgz(file("podinfo/Chart.yaml", "name: podinfo\n"), file("podinfo/templates/cm.yaml", "kind: ConfigMap\n")));
    const out = await extractFiles(archive, { destination: join(work, "x") });
    expect(out.files.map((f) => f.path)).toEqual(["podinfo/Chart.yaml", "podinfo/templates/cm.yaml"]);
    expect(await readFile(join(out.dir, "podinfo/templates/cm.yaml"), "utf8")).toBe("kind: ConfigMap\n");
  });

  it("rejects a symlink (or any hostile entry) and leaves nothing behind", async () => {
    const archive = join(work, "evil.tgz");
    await writeFile(
      archive,
      tgz(file("podinfo/Chart.yaml", "name: podinfo\n"), entry({ name: "podinfo/templates/x.yaml", type: "2", linkname: "/etc/passwd" })),
    );
    const err = await extractFiles(archive, { destination: join(work, "x") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).reason).toBe("symlink");
    expect((await readdir(work)).sort()).toEqual(["evil.tgz"]);
  });
});
