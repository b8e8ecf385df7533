import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMPAT_DIR } from "../../../fixtures/compat-dir.js";
import { formatProblem, ValidationError } from "../src/errors.js";
import { parseCatalog } from "../src/format/catalog-parse.js";

const DIGEST = `sha256:${"a".repeat(64)}`;
const V1 = `apiVersion: catalog.productive-k3s.io/v1
kind: Catalog
generated: 2026-11-21T00:00:00Z
entries:
  - name: longhorn
    version: 1.0.0
    type: addon
    url: addons/longhorn-1.0.0.tgz
    digest: ${DIGEST}
    size: 12345
    category: storage
    dependencies: [cert-manager]
  - name: aws-basic
    version: 594a7c9
    type: profile
    url: https://example.test/aws.tgz
    inputs:
      - {name: AWS_REGION, required: true, source: package-default}
`;

function problems(text: string): string[] {
  try {
    parseCatalog(text, "c.yaml");
  } catch (err) {
    if (err instanceof ValidationError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error("expected a ValidationError");
}

describe("parseCatalog", () => {
  it("reads v1", () => {
    const c = parseCatalog(V1, "c.yaml");
    expect(c.generated).toBe("2026-11-21T00:00:00Z");
    expect(c.entries).toHaveLength(2);
    expect(c.entries[0]).toMatchObject({
      name: "longhorn",
      type: "addon",
      digest: DIGEST,
      size: 12345,
      dependencies: [{ name: "cert-manager", version: "*" }],
    });
    expect(c.entries[1]?.inputs).toEqual([{ name: "AWS_REGION", required: true, sensitive: false, source: "package-default" }]);
    expect(c.warnings).toEqual([]);
  });

  it("reads the published v1alpha1 index, its stack entry included", () => {
    const c = parseCatalog(readFileSync(join(COMPAT_DIR, "catalog/productive-k3s-catalog-index.yaml"), "utf8"), "index.yaml");
    expect(c.apiVersion).toBe("catalogs.productive-k3s.io/v1alpha1");
    expect(c.generated).toBe("2026-08-06T01:12:31Z");
    expect(c.entries.map((e) => `${e.type}:${e.name}@${e.version}`)).toEqual([
      "addon:cert-manager@0.1.0",
      "addon:longhorn@0.1.0",
      "addon:nginx@0.1.0",
      "addon:rancher@0.1.0",
      "addon:registry@0.1.0",
      "stack:base@0.1.0",
      "profile:aws-single-node-basic@594a7c9",
      "profile:on-prem-arm@594a7c9",
      "profile:on-prem-basic@594a7c9",
      "profile:multipass-1-server-2-agents@594a7c9",
    ]);
    expect(c.entries[5]).toEqual({
      name: "base",
      version: "0.1.0",
      type: "stack",
      url: "https://downloads.productive-k3s.io/addons/base-0.1.0.tgz",
      description: "base stack packaged for Productive K3S.",
      category: "platform",
    });
    expect(c.entries[6]?.engine).toBe("opentofu");
    expect(c.entries[7]?.engine).toBe("ansible");
    expect(c.entries[0]?.engine).toBeUndefined();
    expect(c.entries[0]?.url).toBe("https://downloads.productive-k3s.io/addons/cert-manager-0.1.0.tgz");
    expect(c.entries[6]?.inputs?.[1]).toEqual({
      name: "AWS_KEY_PAIR_NAME",
      required: true,
      sensitive: false,
      source: "local-override",
      description: "Existing AWS EC2 key pair name",
    });
    expect(c.warnings).toEqual([]);
  });

  it("still leaves out v1alpha1 kinds that are not package types, with a warning", () => {
    const text = readFileSync(join(COMPAT_DIR, "catalog/productive-k3s-catalog-index.yaml"), "utf8").replace("kind: stack", "kind: bundle");
    const c = parseCatalog(text, "index.yaml");
    expect(c.entries.some((e) => e.name === "base")).toBe(false);
    expect(c.warnings.map(formatProblem)).toEqual([
      'warning: index.yaml:79:11: entries[5].kind: entry "base" has kind "bundle": only addon, profile and stack entries are supported (left out)',
    ]);
  });

  it("rejects bad entries with located problems, or skips them on request", () => {
    const bad = V1.replace(`digest: ${DIGEST}`, "digest: md5:abc").replace("type: profile", "type: chart");
    expect(problems(bad)).toEqual([
      'error: c.yaml:9:13: entries[0].digest: expected sha256:<64 lowercase hex digits>, found string "md5:abc"',
      'error: c.yaml:15:11: entries[1].type: expected "addon" | "profile" | "stack", found string "chart"',
    ]);
    const skipped = parseCatalog(bad, "c.yaml", { skipInvalidEntries: true });
    expect(skipped.entries).toEqual([]);
    expect(skipped.warnings).toHaveLength(2);
  });

  it("keeps the first of duplicate name@version entries, with a warning", () => {
    const dup = `${V1}  - {name: longhorn, version: 1.0.0, type: addon, url: other.tgz}\n`;
    const c = parseCatalog(dup, "c.yaml");
    expect(c.entries.filter((e) => e.name === "longhorn").map((e) => e.url)).toEqual(["addons/longhorn-1.0.0.tgz"]);
    expect(c.warnings.map(formatProblem)).toEqual([
      "warning: c.yaml:19:31: entries[2].version: addon longhorn@1.0.0 is listed again (first at entries[0]); the first entry wins",
    ]);
  });

  it("rejects an unknown apiVersion", () => {
    expect(problems("apiVersion: v9\nkind: Catalog\nentries: []\n")).toEqual([
      'error: c.yaml:1:13: apiVersion: expected "catalog.productive-k3s.io/v1" or "catalogs.productive-k3s.io/v1alpha1", found "v9"',
    ]);
  });
});

describe("parseCatalog: signing fields and publisher metadata", () => {
  const signed = V1.replace(
    "generated: 2026-11-21T00:00:00Z\n",
    `generated: 2026-11-21T00:00:00Z\nserial: 7\nexpires: 2026-12-21T00:00:00Z\ncompanions:\n  - {url: index.ndjson, digest: ${DIGEST}, format: entries+ndjson}\n`,
  ).replace(
    "    category: storage\n",
    "    category: storage\n    maintainers: [Ops Team <ops@example.test>]\n    license: Apache-2.0\n    homepage: https://example.test/longhorn\n    source: https://git.example.test/longhorn\n    created: 2026-11-01T10:00:00Z\n",
  );

  it("reads serial, expires, companions and the per-entry metadata", () => {
    const c = parseCatalog(signed, "c.yaml");
    expect(c.warnings).toEqual([]);
    expect(c).toMatchObject({ serial: 7, expires: "2026-12-21T00:00:00Z", companions: [{ url: "index.ndjson", digest: DIGEST }] });
    expect(c.entries[0]).toMatchObject({
      maintainers: ["Ops Team <ops@example.test>"],
      license: "Apache-2.0",
      created: "2026-11-01T10:00:00Z",
    });
  });

  it("names the field when expires or serial is not what a signed index needs", () => {
    expect(problems(signed.replace("expires: 2026-12-21T00:00:00Z", "expires: next month"))).toEqual([
      expect.stringMatching(/c\.yaml:\d+:\d+: expires: expected an RFC 3339 time/),
    ]);
    expect(problems(signed.replace("serial: 7", "serial: -1"))).toEqual([expect.stringMatching(/serial: /)]);
  });
});
