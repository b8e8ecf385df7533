/** stack.yaml and its lock file: parsing, the published rules, and stack.tgz packing like the other packages. */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openPackage, validatePackageArchive } from "../src/archive/extract.js";
import { inspectPackage } from "../src/archive/inspect.js";
import { packPackage } from "../src/archive/pack.js";
import { loadPackageDir, loadStackFile } from "../src/archive/package-validate.js";
import { formatProblem, ValidationError } from "../src/errors.js";
import { jsonSchemaFor } from "../src/format/json-schema.js";
import { parseStackLock, parseStackManifest } from "../src/format/manifest-parse.js";
import { problemsOf } from "./helpers/problems.js";
import { tempDir, writeTree } from "./helpers/source-tree.js";

/** stacks/base/stack.yaml of the public productive-k3s/productive-k3s-addons repository, as published. */
const PUBLISHED_BASE = `apiVersion: addons.productive-k3s.io/v1
kind: Stack
metadata:
  name: base
  version: 0.1.0
spec:
  resolution:
    mode: catalog
  runtime:
    compatibility:
      kubernetes:
        distros:
          - k3s
          - rke2
  addons:
    - cert-manager
    - longhorn
    - rancher
    - registry
`;

const HEAD = `apiVersion: addons.productive-k3s.io/v1
kind: Stack
metadata:
  name: platform
  version: 1.0.0
spec:
`;

describe("stack.yaml", () => {
  it("accepts the published base stack without warnings, in strict mode", () => {
    const { manifest, warnings } = parseStackManifest(PUBLISHED_BASE, "stack.yaml", { strict: true });
    expect(warnings).toEqual([]);
    expect(manifest.metadata).toEqual({ name: "base", version: "0.1.0" });
    expect(manifest.spec.resolution?.mode).toBe("catalog");
    expect(manifest.spec.runtime?.compatibility?.kubernetes?.distros).toEqual(["k3s", "rke2"]);
    expect(manifest.spec.addons.map((a) => a.name)).toEqual(["cert-manager", "longhorn", "rancher", "registry"]);
    expect(manifest.spec.addons[0]).toEqual({ name: "cert-manager", values: [], set: [] });
  });

  it("normalises {name, version, source} entries and our values, set and namespace", () => {
    const { manifest } = parseStackManifest(
      `${HEAD}  resolution:
    mode: bundled
  addons:
    - name: cert-manager
      version: 1.2.0
      source: addons/cert-manager-1.2.0.tgz
    - name: longhorn
      version: ^1.0
      values: [values/longhorn.yaml]
      set: ["replicas=2", "ui.enabled=true"]
      namespace: storage
    - registry
`,
      "stack.yaml",
      { strict: true },
    );
    expect(manifest.spec.addons).toEqual([
      { name: "cert-manager", version: "1.2.0", source: "addons/cert-manager-1.2.0.tgz", values: [], set: [] },
      { name: "longhorn", version: "^1.0", values: ["values/longhorn.yaml"], set: ["replicas=2", "ui.enabled=true"], namespace: "storage" },
      { name: "registry", values: [], set: [] },
    ]);
  });

  it("reports every broken rule at once, with its location", () => {
    // (mode bundled is satisfied here: two add-ons name a source, both reported as invalid)
    expect(
      problemsOf(() =>
        parseStackManifest(
          `${HEAD}  resolution:
    mode: bundled
  runtime:
    compatibility:
      kubernetes:
        distros: [k3s, k3s]
  addons:
    - longhorn
    - name: longhorn
      source: ../longhorn.tgz
    - name: registry
      source: charts/registry.tgz
      set: ["=oops"]
      namespace: Storage
`,
          "stack.yaml",
        ),
      ),
    ).toEqual([
      'error: stack.yaml:12:24: spec.runtime.compatibility.kubernetes.distros[1]: expected each distro once, found "k3s" again',
      'error: stack.yaml:15:7: spec.addons[1]: expected each add-on once, found "longhorn" again (first at spec.addons[0])',
      'error: stack.yaml:16:15: spec.addons[1].source: expected a .tgz under addons/ inside the stack, e.g. addons/longhorn-1.0.0.tgz, found string "../longhorn.tgz"',
      'error: stack.yaml:18:15: spec.addons[2].source: expected a .tgz under addons/ inside the stack, e.g. addons/longhorn-1.0.0.tgz, found string "charts/registry.tgz"',
      'error: stack.yaml:19:13: spec.addons[2].set[0]: expected key=value (Helm --set syntax), found string "=oops"',
      "error: stack.yaml:20:18: spec.addons[2].namespace: expected a namespace: a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), found string \"Storage\"",
    ]);
  });

  it("needs at least one add-on", () => {
    expect(problemsOf(() => parseStackManifest(`${HEAD}  addons: []\n`, "stack.yaml"))).toEqual([
      "error: stack.yaml:7:11: spec.addons: expected at least one add-on, found a list (0 items)",
    ]);
  });

  it("warns about unknown fields, and refuses them with strict", () => {
    const text = `${HEAD}  addons:\n    - name: longhorn\n      chart: x\n`;
    expect(parseStackManifest(text, "stack.yaml").warnings.map(formatProblem)).toEqual([
      'warning: stack.yaml:9:7: spec.addons[0].chart: unknown field "chart" in spec.addons[0] (ignored)',
    ]);
    expect(problemsOf(() => parseStackManifest(text, "stack.yaml", { strict: true }))).toHaveLength(1);
  });

  it("exports a JSON Schema of what users write", () => {
    const schema = JSON.stringify(jsonSchemaFor("stack"));
    expect(schema).toContain('"Stack"');
    expect(schema).toContain('"bundled"');
    expect(schema).toContain('"namespace"');
    expect(JSON.stringify(jsonSchemaFor("stack-lock"))).toContain('"StackLock"');
  });
});

describe("stack.tgz", () => {
  let work: string;
  beforeEach(async () => {
    work = await tempDir();
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const STACK_TREE = {
    "stack.yaml": `${HEAD}  addons:
    - name: longhorn
      values: [values/longhorn.yaml]
    - registry
`,
    "values/longhorn.yaml": "replicas: 2\n",
    "README.md": "# platform\n",
  };

  it("packs deterministically, and inspects, validates and extracts as kind stack", async () => {
    const src = await writeTree(join(work, "src"), STACK_TREE);
    const first = await packPackage(src, join(work, "out1"));
    const second = await packPackage(src, join(work, "out2"));
    expect(first.kind).toBe("stack");
    expect(first.file).toBe(join(work, "out1", "platform-1.0.0.tgz"));
    expect(first.digest).toBe(second.digest);
    expect(first.files).toEqual(["README.md", "checksums.sha256", "stack.yaml", "values/longhorn.yaml"]);

    const inspected = await inspectPackage(first.file);
    expect(inspected.kind).toBe("stack");
    expect(inspected.name).toBe("platform");
    expect((await validatePackageArchive(first.file)).pkg.kind).toBe("stack");
    const opened = await openPackage(first.file);
    try {
      if (opened.pkg.kind !== "stack") throw new Error(`expected a stack, got ${opened.pkg.kind}`);
      expect(opened.pkg.manifest.spec.addons.map((a) => a.name)).toEqual(["longhorn", "registry"]);
    } finally {
      await opened.cleanup();
    }
  });

  it("refuses a stack whose values file or bundled package is missing", async () => {
    const src = await writeTree(join(work, "src"), {
      ...STACK_TREE,
      "stack.yaml": `${HEAD}  addons:\n    - name: longhorn\n      values: [values/missing.yaml]\n    - name: registry\n      source: addons/registry-1.0.0.tgz\n`,
    });
    const err = await loadPackageDir(src, { label: "src" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).problems.map(formatProblem)).toEqual([
      'error: src/stack.yaml:9:16: spec.addons[0].values[0]: values file "values/missing.yaml" does not exist in the package',
      'error: src/stack.yaml:11:15: spec.addons[1].source: bundled package "addons/registry-1.0.0.tgz" does not exist in the package',
    ]);
  });

  it("loads a stack file of any name, checking its values files in its folder", async () => {
    const src = await writeTree(join(work, "src"), {
      "prod.yaml": STACK_TREE["stack.yaml"],
      "values/longhorn.yaml": "replicas: 2\n",
      "addon.yaml": "not looked at\n",
    });
    const loaded = await loadStackFile(join(src, "prod.yaml"));
    expect(loaded.kind).toBe("stack");
    expect(loaded.root).toBe(src);
    expect(loaded.manifestFile).toBe(join(src, "prod.yaml"));
    await writeTree(src, { "prod.yaml": STACK_TREE["stack.yaml"].replace("values/longhorn.yaml", "values/gone.yaml") });
    const err = await loadStackFile(join(src, "prod.yaml"), { label: "src" }).catch((e: unknown) => e);
    expect((err as ValidationError).problems.map(formatProblem)).toEqual([
      'error: src/prod.yaml:9:16: spec.addons[0].values[0]: values file "values/gone.yaml" does not exist in the package',
    ]);
  });

  it("refuses a directory with two manifests", async () => {
    const src = await writeTree(join(work, "src"), { ...STACK_TREE, "addon.yaml": "kind: Addon\n" });
    await expect(loadPackageDir(src, { label: "src" })).rejects.toThrow("src has both addon.yaml and stack.yaml");
  });
});

describe("stack lock file", () => {
  const LOCK = `apiVersion: addons.productive-k3s.io/v1
kind: StackLock
stack:
  name: base
  version: 0.1.0
packages:
  - name: cert-manager
    type: addon
    version: 1.2.0
    catalog: local
    url: file:///catalog/cert-manager-1.2.0.tgz
    digest: sha256:${"a".repeat(64)}
  - name: longhorn
    type: addon
    version: 1.0.0
    catalog: local
    url: file:///catalog/longhorn-1.0.0.tgz
    digest: sha256:${"b".repeat(64)}
    dependencies:
      - name: cert-manager
        version: ^1.0.0
`;

  it("reads what pk3s writes", () => {
    const { manifest } = parseStackLock(LOCK, "stack.yaml.lock");
    expect(manifest.packages.map((p) => `${p.name}@${p.version}`)).toEqual(["cert-manager@1.2.0", "longhorn@1.0.0"]);
    expect(manifest.packages[1]?.dependencies).toEqual([{ name: "cert-manager", version: "^1.0.0" }]);
  });

  it("refuses unknown fields, a package listed twice and an entry without a location", () => {
    const bad = `${LOCK.replace("    type: addon\n    version: 1.0.0\n    catalog: local\n    url: file:///catalog/longhorn-1.0.0.tgz\n", "    type: addon\n    version: 1.0.0\n    pinned: true\n")}  - name: cert-manager
    type: addon
    version: 1.3.0
    catalog: local
    url: file:///catalog/cert-manager-1.3.0.tgz
    digest: sha256:${"c".repeat(64)}
`;
    expect(problemsOf(() => parseStackLock(bad, "stack.yaml.lock"))).toEqual([
      "error: stack.yaml.lock:13:5: packages[1].url: expected catalog and url (or source, for a bundled add-on), found nothing",
      'error: stack.yaml.lock:16:5: packages[1].pinned: unknown field "pinned" in packages[1] (ignored)',
      'error: stack.yaml.lock:21:11: packages[2].name: expected each package once, found "cert-manager" again (first at packages[0])',
    ]);
  });
});

describe("stack.yaml resolution mode", () => {
  it("bundled needs an add-on with a source", () => {
    expect(problemsOf(() => parseStackManifest(`${HEAD}  resolution: {mode: bundled}\n  addons: [longhorn]\n`, "stack.yaml"))).toEqual([
      'error: stack.yaml:7:22: spec.resolution.mode: resolution mode bundled needs at least one add-on with a source (a .tgz under addons/ inside the stack), found string "bundled"',
    ]);
  });
});
