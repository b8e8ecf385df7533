import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPackageDir } from "../src/archive/package-validate.js";
import { formatProblem, ValidationError } from "../src/errors.js";
import { ADDON_TREE, PROFILE_TREE, type Tree, tempDir, writeTree } from "./helpers/source-tree.js";

let work: string;
beforeEach(async () => {
  work = await tempDir();
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function problems(tree: Tree, extra?: (root: string) => Promise<void>, strict = false): Promise<string[]> {
  await writeTree(work, tree);
  await extra?.(work);
  try {
    await loadPackageDir(work, { label: "pkg", strict });
  } catch (err) {
    if (err instanceof ValidationError) return [err.message, ...err.problems.map(formatProblem)];
    throw err;
  }
  throw new Error("expected a ValidationError");
}

describe("loadPackageDir", () => {
  it("loads a valid add-on and lists its references", async () => {
    await writeTree(work, ADDON_TREE);
    const pkg = await loadPackageDir(work);
    expect(pkg.kind).toBe("addon");
    expect(pkg.references.sort()).toEqual(["charts/demo", "scripts/install.sh", "scripts/pre.sh", "values.yaml"]);
    expect(pkg.warnings).toEqual([]);
  });

  it("loads a valid profile with its env", async () => {
    await writeTree(work, PROFILE_TREE);
    const pkg = await loadPackageDir(work);
    expect(pkg.kind).toBe("profile");
    if (pkg.kind !== "profile") return;
    expect(pkg.env).toEqual({ CLUSTER_NAME: "demo", DOMAIN: "demo.lab" });
    expect(pkg.manifest.spec.engine).toEqual({ type: "ansible", workingDir: "scenario", playbook: "playbook.yml" });
  });

  it("reports every missing or wrong-kind reference with its manifest location", async () => {
    const tree = { ...ADDON_TREE };
    delete tree["scripts/install.sh"];
    delete tree["values.yaml"];
    tree["charts/demo/Chart.yaml"] = "apiVersion: v2\nname: 3\n";
    expect(
      await problems(tree, async (root) => {
        await mkdir(join(root, "scripts/pre.sh"), { recursive: true }).catch(() => undefined);
      }),
    ).toEqual([
      "pkg is invalid: 4 problems",
      'error: pkg/addon.yaml:12:14: spec.chart.values[0]: values file "values.yaml" does not exist in the package',
      'error: pkg/addon.yaml:14:13: spec.install.script: install script "scripts/install.sh" does not exist in the package',
      "error: pkg/charts/demo/Chart.yaml:1:1: version: required field is missing (expected a non-empty string)",
      "error: pkg/charts/demo/Chart.yaml:2:7: name: expected a non-empty string, found 3",
    ]);
  });

  it("rejects a symlink that escapes the package root", async () => {
    const tree = { ...ADDON_TREE };
    delete tree["scripts/pre.sh"];
    const out = await problems(tree, async (root) => {
      await writeFile(join(work, "..", `outside-${process.pid}.sh`), "x");
      await symlink(join(work, "..", `outside-${process.pid}.sh`), join(root, "scripts/pre.sh"));
    });
    await rm(join(work, "..", `outside-${process.pid}.sh`), { force: true });
    expect(out).toEqual([
      "pkg is invalid: 1 problem",
      'error: pkg/addon.yaml:16:17: spec.hooks.preInstall: preInstall hook script "scripts/pre.sh" resolves outside the package (through a symbolic link)',
    ]);
  });

  it("requires a chart directory with a Chart.yaml", async () => {
    const tree = { ...ADDON_TREE };
    delete tree["charts/demo/Chart.yaml"];
    expect(await problems(tree)).toEqual([
      "pkg is invalid: 1 problem",
      "error: pkg/charts/demo/Chart.yaml: the chart directory has no Chart.yaml (expected a Helm chart in directory form)",
    ]);
  });

  it("requires package-default inputs to have a value in profile.env, and a playbook", async () => {
    const tree: Tree = { ...PROFILE_TREE, "profile.env": "CLUSTER_NAME=\n" };
    delete tree["scenario/playbook.yml"];
    expect(await problems(tree)).toEqual([
      "pkg is invalid: 2 problems",
      'error: pkg/profile.yaml:10:3: spec.engine.playbook: playbook "scenario/playbook.yml" does not exist in the package',
      "error: pkg/profile.yaml:13:7: spec.inputs[0]: required input CLUSTER_NAME has source package-default, so profile.env must give it a non-empty value; found an empty value",
    ]);
  });

  it("reports profile.env syntax errors with their line", async () => {
    expect(await problems({ ...PROFILE_TREE, "profile.env": "CLUSTER_NAME=demo\nnot an assignment\n" })).toEqual([
      "pkg is invalid: 1 problem",
      'error: pkg/profile.env:2:1: expected KEY=VALUE, found a line without "=" (17 characters, not shown)',
    ]);
  });

  it("unknown fields are warnings, errors with strict", async () => {
    const tree = { ...ADDON_TREE, "addon.yaml": `${ADDON_TREE["addon.yaml"] as string}  surprise: true\n` };
    await writeTree(work, tree);
    const pkg = await loadPackageDir(work, { label: "pkg" });
    expect(pkg.warnings.map(formatProblem)).toEqual([
      'warning: pkg/addon.yaml:17:3: spec.surprise: unknown field "surprise" in spec (ignored)',
    ]);
    await expect(loadPackageDir(work, { label: "pkg", strict: true })).rejects.toBeInstanceOf(ValidationError);
  });

  it("rejects a directory without a manifest, or with both", async () => {
    await expect(loadPackageDir(work, { label: "pkg" })).rejects.toThrow(
      "pkg is not a package: no addon.yaml, profile.yaml or stack.yaml at its root",
    );
    await writeTree(work, { "addon.yaml": "x", "profile.yaml": "y" });
    await expect(loadPackageDir(work, { label: "pkg" })).rejects.toThrow("pkg has both addon.yaml and profile.yaml");
  });
});
