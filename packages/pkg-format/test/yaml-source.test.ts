/**
 * parseYamlSource reads a manifest in yaml-lines.ts's subset without the `yaml` library's document, and builds
 * that document (for positions) only when a problem needs placing; other text goes to the library as before.
 */

import { beforeEach, describe, expect, it, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseAddonManifest } from "../src/format/manifest-parse.js";
import { parseYamlSource } from "../src/format/yaml-source.js";

const calls = vi.hoisted(() => ({ parseDocument: 0 }));
vi.mock("yaml", async (importOriginal) => {
  const yaml = await importOriginal<typeof import("yaml")>();
  return {
    ...yaml,
    parseDocument: ((...args: Parameters<typeof yaml.parseDocument>) => {
      calls.parseDocument++;
      return yaml.parseDocument(...args);
    }) as typeof yaml.parseDocument,
  };
});
beforeEach(() => {
  calls.parseDocument = 0;
});

const MANIFEST = [
  "apiVersion: addons.productive-k3s.io/v1",
  "kind: Addon",
  "metadata:",
  "  name: demo",
  "  version: 1.0.0",
  "  category: test",
  "  description: 'a demo: quoted'",
  "spec:",
  "  type: shell",
  "  install:",
  "    script: scripts/install.sh",
  "  dependencies:",
  "    - name: base",
  '      version: "^1.0.0"',
  "",
].join("\n");

describe("parseYamlSource", () => {
  it("reads a plain manifest without the library's document, with the library's value", () => {
    const source = parseYamlSource(MANIFEST, "addon.yaml");
    expect(source.value).toEqual(parseYaml(MANIFEST));
    expect(source.problems).toEqual([]);
    const parsed = parseAddonManifest(MANIFEST, "addon.yaml");
    expect(parsed.manifest.metadata.name).toBe("demo");
    expect(parsed.warnings).toEqual([]);
    expect(calls.parseDocument).toBe(0);
  });

  it("builds the document once, when a position is asked for", () => {
    const source = parseYamlSource(MANIFEST, "addon.yaml");
    expect(source.locate(["spec", "install", "script"])).toEqual({ line: 11, column: 13 });
    expect(source.locateKey(["metadata", "version"])).toEqual({ line: 5, column: 3 });
    expect(calls.parseDocument).toBe(1);
  });

  it("places problems as before (an unknown field, a bad value)", () => {
    const text = MANIFEST.replace("  type: shell", "  type: shell\n  colour: blue").replace("version: 1.0.0", "version: one");
    expect(() => parseAddonManifest(text, "addon.yaml")).toThrow();
    try {
      parseAddonManifest(text, "addon.yaml");
    } catch (err) {
      const problems = (err as { problems: { line?: number; path?: string; severity: string }[] }).problems;
      expect(problems.map((p) => [p.path, p.line, p.severity])).toEqual([
        ["metadata.version", 5, "error"],
        ["spec.colour", 10, "warning"],
      ]);
    }
  });

  it("hands anything outside the subset to the library (anchors, syntax errors, empty documents)", () => {
    const anchored = "a: &x 1\nb: *x\n";
    expect(parseYamlSource(anchored, "f.yaml").value).toEqual({ a: 1, b: 1 });
    expect(calls.parseDocument).toBe(1);
    const broken = parseYamlSource("a: [1, 2\n", "f.yaml");
    expect(broken.problems.some((p) => p.severity === "error")).toBe(true);
    expect(parseYamlSource("# nothing\n", "f.yaml").value).toBeNull();
    expect(parseYamlSource("a: 1\na: 2\n", "f.yaml").problems[0]?.message).toMatch(/^invalid YAML: Map keys must be unique/);
    // An implicit key over 1024 characters is a syntax error, not an unknown field.
    expect(parseYamlSource(`a: 1\n${"k".repeat(1024)}: 2\n`, "f.yaml").problems).toEqual([]);
    const long = parseYamlSource(`a: 1\n${"k".repeat(1025)}: 2\n`, "f.yaml");
    expect(long.problems[0]?.message).toMatch(/^invalid YAML: The : indicator must be at most 1024 chars/);
    const inList = parseYamlSource(`- ${"k".repeat(1030)}: 2\n`, "f.yaml");
    expect(inList.problems[0]?.severity).toBe("error");
  });
});
