import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMPAT_DIR } from "../../../fixtures/compat-dir.js";
import { formatProblem, ValidationError } from "../src/errors.js";
import { parseAddonManifest, parseProfileManifest } from "../src/format/manifest-parse.js";
import { problemsOf } from "./helpers/problems.js";

const COMPAT = COMPAT_DIR;

const ADDON = `apiVersion: addons.productive-k3s.io/v1
kind: Addon
metadata:
  name: demo
  version: 1.0.0
  category: example
spec:
  type: helm
  chart:
    path: charts/demo
`;

const PROFILE = `apiVersion: infra.productive-k3s.io/v1
kind: Profile
metadata:
  name: multipass-basic
  version: 1.0.0
  category: local
spec:
  scenario:
    type: multipass
  engine:
    type: opentofu
`;

describe("addon.yaml", () => {
  const compat = readdirSync(join(COMPAT, "addons")).filter((f) => f.endsWith(".yaml"));
  it("has compat manifests to check", () => expect(compat.length).toBeGreaterThan(0));
  for (const f of compat) {
    it(`accepts compat/addons/${f} without warnings`, () => {
      const { manifest, warnings } = parseAddonManifest(readFileSync(join(COMPAT, "addons", f), "utf8"), f, { strict: true });
      expect(manifest.apiVersion).toBe("addons.productive-k3s.io/v1");
      expect(manifest.spec.install?.script).toBe("scripts/install.sh");
      expect(warnings).toEqual([]);
    });
  }

  it("normalises chart defaults, hooks and dependencies", () => {
    const { manifest } = parseAddonManifest(
      `${ADDON}  hooks:
    preInstall: scripts/pre.sh
    postInstall: {script: scripts/post.sh}
  dependencies:
    - cert-manager
    - {name: longhorn, version: ">=1.0.0 <2"}
  compatibility:
    k3s: {minVersion: "1.31", maxVersion: "v1.33.1+k3s1"}
    requires: {core: {minVersion: "0.1", maxVersionExclusive: "2.0.0"}}
`,
      "addon.yaml",
    );
    expect(manifest.spec.chart).toEqual({ path: "charts/demo", releaseName: "demo", namespace: "demo", values: [] });
    expect(manifest.spec.hooks).toEqual({ preInstall: "scripts/pre.sh", postInstall: "scripts/post.sh" });
    expect(manifest.spec.dependencies).toEqual([
      { name: "cert-manager", version: "*" },
      { name: "longhorn", version: ">=1.0.0 <2" },
    ]);
  });

  it("accepts type helm without a chart when an install script is given", () => {
    expect(() =>
      parseAddonManifest(ADDON.replace(/ {2}chart:\n {4}path: charts\/demo\n/, "  install:\n    script: i.sh\n"), "a.yaml"),
    ).not.toThrow();
  });

  const rejects: [string, string, string[]][] = [
    [
      "neither chart nor install",
      ADDON.replace(/ {2}chart:\n {4}path: charts\/demo\n/, ""),
      ["error: a.yaml:8:3: spec: expected spec.chart or spec.install.script (a package must install something), found neither"],
    ],
    [
      "wrong apiVersion",
      ADDON.replace("addons.productive-k3s.io/v1", "addons.productive-k3s.io/v2"),
      ['error: a.yaml:1:13: apiVersion: expected "addons.productive-k3s.io/v1", found string "addons.productive-k3s.io/v2"'],
    ],
    ["wrong kind", ADDON.replace("kind: Addon", "kind: Profile"), ['error: a.yaml:2:7: kind: expected "Addon", found string "Profile"']],
    [
      "bad name, numeric version, missing category",
      ADDON.replace("name: demo", "name: Demo_App").replace("version: 1.0.0", "version: 1.0").replace("  category: example\n", ""),
      [
        "error: a.yaml:3:1: metadata.category: required field is missing (expected a string)",
        "error: a.yaml:4:9: metadata.name: expected a package name: a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 53 characters), found string \"Demo_App\"",
        "error: a.yaml:5:12: metadata.version: expected a string, found number 1 (quote it in YAML)",
      ],
    ],
    [
      "name longer than 53",
      ADDON.replace("name: demo", `name: ${"a".repeat(54)}`),
      [
        `error: a.yaml:4:9: metadata.name: expected a package name: a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 53 characters), found string "${"a".repeat(54).slice(0, 57)}"`,
      ],
    ],
    [
      "non-semver version",
      ADDON.replace("version: 1.0.0", 'version: "v1.0"'),
      ['error: a.yaml:5:12: metadata.version: expected a semantic version such as 1.2.3, found string "v1.0"'],
    ],
    [
      "bad type and escaping chart path",
      ADDON.replace("type: helm", "type: kustomize").replace("path: charts/demo", "path: ../charts"),
      [
        'error: a.yaml:8:9: spec.type: expected "helm" | "shell", found string "kustomize"',
        "error: a.yaml:10:11: spec.chart.path: expected a relative path inside the package, found \"../charts\" which contains '..'",
      ],
    ],
    [
      "absolute script path",
      `${ADDON}  install:\n    script: /usr/bin/evil\n`,
      ['error: a.yaml:12:13: spec.install.script: expected a relative path inside the package, found "/usr/bin/evil" which is absolute'],
    ],
    [
      "bad hook and dependency range",
      `${ADDON}  hooks:\n    preInstall: [a]\n  dependencies:\n    - {name: x, version: "not a range!"}\n`,
      [
        "error: a.yaml:12:17: spec.hooks.preInstall: expected a script path or {script: <path>}, found a list (1 item)",
        'error: a.yaml:14:26: spec.dependencies[0].version: expected a semver range such as ^1.2.0 or >=1.0.0 <2.0.0, found string "not a range!"',
      ],
    ],
    [
      "impact of wrong type",
      `${ADDON}  impact:\n    cluster: "yes"\n`,
      ['error: a.yaml:12:14: spec.impact.cluster: expected a boolean (true/false), found string "yes"'],
    ],
    ["duplicate key", `${ADDON}  type: shell\n`, ["error: a.yaml:11:3: invalid YAML: Map keys must be unique"]],
    ["not a mapping", "- a\n- b\n", ["error: a.yaml:1:1: expected a YAML mapping (apiVersion, kind, metadata, spec), found a list"]],
    ["empty document", "", ["error: a.yaml:1:1: expected a YAML mapping (apiVersion, kind, metadata, spec), found an empty document"]],
  ];
  for (const [name, text, expected] of rejects) {
    it(`rejects: ${name}`, () => {
      expect(problemsOf(() => parseAddonManifest(text, "a.yaml"))).toEqual(expected);
    });
  }

  it("reports the chart/install rule together with other errors", () => {
    const text = ADDON.replace(/ {2}chart:\n {4}path: charts\/demo\n/, "").replace("name: demo", "name: BAD");
    expect(problemsOf(() => parseAddonManifest(text, "a.yaml")).map((p) => p.split(": ")[2])).toEqual(["metadata.name", "spec"]);
    expect(problemsOf(() => parseAddonManifest("apiVersion: x\n", "a.yaml"))).toHaveLength(4);
  });

  it("reports unknown fields as warnings, and as errors with strict", () => {
    const text = ADDON.replace("  category: example\n", "  category: example\n  colour: blue\n");
    const { warnings } = parseAddonManifest(text, "a.yaml");
    expect(warnings.map(formatProblem)).toEqual(['warning: a.yaml:7:3: metadata.colour: unknown field "colour" in metadata (ignored)']);
    expect(problemsOf(() => parseAddonManifest(text, "a.yaml", { strict: true }))).toEqual([
      'error: a.yaml:7:3: metadata.colour: unknown field "colour" in metadata (ignored)',
    ]);
  });

  it("reports all problems at once, unknown fields included", () => {
    const text = ADDON.replace("name: demo", "name: BAD")
      .replace("  category: example\n", "  category: example\n  extra: 1\n")
      .replace("type: helm", "type: nope");
    const problems = problemsOf(() => parseAddonManifest(text, "a.yaml"));
    expect(problems).toHaveLength(3);
    expect(problems[1]).toBe('warning: a.yaml:7:3: metadata.extra: unknown field "extra" in metadata (ignored)');
  });

  it("ValidationError says how many problems and where", () => {
    try {
      parseAddonManifest(ADDON.replace("type: helm", "type: x"), "pkg/addon.yaml");
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).message).toBe("pkg/addon.yaml is invalid: 1 problem");
      expect((err as ValidationError).exitCode).toBe(4);
      expect((err as ValidationError).where).toBe("pkg/addon.yaml");
    }
  });
});

describe("profile.yaml", () => {
  it("applies defaults and normalises the shell alias", () => {
    const { manifest } = parseProfileManifest(PROFILE, "p.yaml");
    expect(manifest.spec.engine).toEqual({ type: "opentofu", workingDir: "scenario" });
    expect(manifest.spec.inputs).toEqual([]);
    const shell = parseProfileManifest(
      `${PROFILE.replace("type: opentofu", "type: shell")}  execution:\n    installScript: scenario/install.sh\n`,
      "p.yaml",
    );
    expect(shell.manifest.spec.engine.type).toBe("script");
    const ansible = parseProfileManifest(PROFILE.replace("type: opentofu", "type: ansible"), "p.yaml");
    expect(ansible.manifest.spec.engine.playbook).toBe("playbook.yml");
  });

  it("accepts a git short sha version with a warning", () => {
    const { warnings } = parseProfileManifest(PROFILE.replace("version: 1.0.0", "version: 594a7c9"), "p.yaml");
    expect(warnings.map(formatProblem)).toEqual([
      'warning: p.yaml:5:12: metadata.version: version "594a7c9" is not semver: ranges cannot select it, only an exact match',
    ]);
  });

  it("input defaults", () => {
    const { manifest } = parseProfileManifest(`${PROFILE}  inputs:\n    - name: AWS_REGION\n`, "p.yaml");
    expect(manifest.spec.inputs).toEqual([{ name: "AWS_REGION", required: false, sensitive: false, source: "either" }]);
  });

  const rejects: [string, string, string[]][] = [
    [
      "script engine without installScript",
      PROFILE.replace("type: opentofu", "type: script"),
      [
        "error: p.yaml:7:1: spec.execution.installScript: required field is missing (expected a script path: engine type script runs spec.execution.installScript)",
      ],
    ],
    [
      "unknown engine",
      PROFILE.replace("type: opentofu", "type: terraform"),
      ['error: p.yaml:11:11: spec.engine.type: expected "opentofu" | "ansible" | "script" | "shell", found string "terraform"'],
    ],
    [
      "duplicate and invalid input names, bad source",
      `${PROFILE}  inputs:\n    - {name: A, source: package-default}\n    - {name: A}\n    - {name: 1BAD, source: somewhere}\n`,
      [
        'error: p.yaml:14:14: spec.inputs[1].name: expected unique input names, found "A" again (first at spec.inputs[0])',
        'error: p.yaml:15:14: spec.inputs[2].name: expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*), found string "1BAD"',
        'error: p.yaml:15:28: spec.inputs[2].source: expected "package-default" | "local-override" | "either", found string "somewhere"',
      ],
    ],
    [
      "version with spaces",
      PROFILE.replace("version: 1.0.0", 'version: "1 0"'),
      ['error: p.yaml:5:12: metadata.version: expected a version: semver such as 1.2.3, or a revision such as 594a7c9, found string "1 0"'],
    ],
    [
      "missing scenario",
      PROFILE.replace("  scenario:\n    type: multipass\n", ""),
      ["error: p.yaml:7:1: spec.scenario: required field is missing (expected a mapping)"],
    ],
  ];
  for (const [name, text, expected] of rejects) {
    it(`rejects: ${name}`, () => {
      expect(problemsOf(() => parseProfileManifest(text, "p.yaml"))).toEqual(expected);
    });
  }
});

describe("hostile YAML", () => {
  it("refuses alias bombs and multiple documents", () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(", ")}]`,
      ),
    ].join("\n");
    const out = problemsOf(() => parseAddonManifest(bomb, "bomb.yaml"));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^error: bomb\.yaml:1:1: invalid YAML: /);
    expect(problemsOf(() => parseAddonManifest(`${ADDON}---\n${ADDON}`, "two.yaml"))[0]).toMatch(
      /^error: two\.yaml:11:1: invalid YAML: Source contains multiple documents/,
    );
  });
});
