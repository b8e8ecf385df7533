/**
 * yaml-write.ts: the catalog index writer. The usual index is byte for byte what the `yaml` library writes; any
 * document in its data model reads back as the same value through the library and through the line reader.
 */
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { parseSimpleYaml, UNSUPPORTED } from "../src/format/yaml-lines.js";
import { blockYaml } from "../src/format/yaml-write.js";

const library = (doc: unknown): string => stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });

function indexDoc(n: number): Record<string, unknown> {
  return {
    apiVersion: "catalog.productive-k3s.io/v1",
    kind: "Catalog",
    generated: "2026-11-30T16:39:00Z",
    serial: 7,
    expires: "2026-12-30T16:39:00Z",
    companions: [
      { url: "index.d/5b74dd39233ec583/index.ndjson", digest: `sha256:${"a".repeat(64)}`, size: 62863, format: "entries+ndjson" },
    ],
    entries: Array.from({ length: n }, (_, i) => ({
      name: `pkg-${i}`,
      version: `${i % 7}.${i % 13}.${i % 3}`,
      type: i % 3 === 0 ? "profile" : "addon",
      url: `https://example.com/charts/pkg-${i}-1.0.0.tgz?x=1&y=2`,
      digest: `sha256:${i.toString(16).padStart(64, "0")}`,
      size: 6629 + i,
      description: `benchmark add-on pkg-${i}, a helm chart with its scripts (v2) - 100% tested`,
      category: "bench",
      created: "2026-11-30T16:39:00Z",
      deprecated: i % 5 === 0 ? true : undefined,
      dependencies: i % 4 === 0 ? [{ name: `pkg-${i + 1}`, version: "^1.0.0" }] : undefined,
      requires: i % 6 === 0 ? { k3s: ">=1.30.0", kubernetes: "~1.31" } : undefined,
      keywords: i % 2 === 0 ? ["web", "ingress", "-dash", "a:b", "a/b@c"] : [],
      maintainers: i % 9 === 0 ? [{ name: "Jane Doe", email: "jane@example.com" }] : undefined,
      annotations: {},
      signature: null,
    })),
  };
}

describe("blockYaml: the usual catalog index, as the library writes it", () => {
  it("is byte for byte the yaml library's output (lineWidth 0) for a 300-entry index", () => {
    const doc = indexDoc(300);
    expect(blockYaml(doc)).toBe(library(doc));
  });

  it("reads back through the line reader without falling back to the library", () => {
    const doc = indexDoc(20);
    const text = blockYaml(doc) as string;
    expect(parseSimpleYaml(text.split("\n"))).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});

/** Strings a writer could get wrong: indicators, comments, YAML 1.2 non-strings, escapes, control characters. */
const HOSTILE = [
  "",
  " ",
  " lead",
  "trail ",
  "-",
  "- x",
  "-x",
  "?",
  "? x",
  ":",
  ":x",
  "a: b",
  "a:",
  "a #b",
  "a#b",
  "#x",
  "&anchor",
  "*alias",
  "!tag",
  "|",
  ">",
  ">=1.0.0 <2.0.0",
  "%YAML",
  "@at",
  "`tick",
  "{a}",
  "[a]",
  "a, b",
  '"q"',
  "'q'",
  "it's",
  'say "hi"',
  "back\\slash",
  "~",
  "null",
  "Null",
  "NULL",
  "true",
  "False",
  "yes",
  "no",
  "on",
  "0",
  "007",
  "1.0",
  "1e3",
  "-1",
  "+1",
  ".5",
  ".inf",
  "-.Inf",
  ".nan",
  "0x1F",
  "0o17",
  "1.0.0",
  "2026-11-30",
  "2026-11-30T16:39:00Z",
  "line\nbreak",
  "cr\rlf",
  "tab\there",
  "nul\u0000byte",
  "bell\u0007",
  "del\u007f",
  "c1\u0085\u009b",
  "ls\u2028ps\u2029",
  "bom\ufeff",
  "nonchar\uffff",
  "lone\ud800surrogate",
  "émoji 🚀 ünïcödé",
  "---",
  "...",
  "a".repeat(1022),
  "a".repeat(2000),
  "__proto__",
];

describe("blockYaml: any value in its data model reads back as itself", () => {
  it("strings as values, as sequence items and as keys, through the library and through the line reader", () => {
    for (const s of HOSTILE) {
      // A key over 1,024 characters is outside the writer's model (the next test): as a value it is not.
      const doc = s.length > 1000 ? { value: s, list: [s, { inner: s }] } : { value: s, list: [s, { inner: s }], map: { [s]: s } };
      const text = blockYaml(doc);
      expect(text, JSON.stringify(s)).toBeDefined();
      const viaLibrary = parseYaml(text as string, { uniqueKeys: true, strict: true });
      expect(viaLibrary, JSON.stringify(s)).toEqual(doc);
      const viaLines = parseSimpleYaml((text as string).split("\n"));
      // The line reader may decline (the library then reads it): it must never read something else.
      if (viaLines !== UNSUPPORTED) expect(viaLines, JSON.stringify(s)).toEqual(doc);
    }
  });

  it("scalars of every kind, empty collections, nested mappings in sequences", () => {
    const doc = {
      n: 0,
      big: Number.MAX_SAFE_INTEGER,
      neg: -42,
      t: true,
      f: false,
      z: null,
      emptyList: [],
      emptyMap: {},
      items: [1, "two", null, true, [], {}, { a: { b: { c: ["d"] } }, e: [] }],
      skipped: undefined,
    };
    const text = blockYaml(doc) as string;
    expect(text).toBe(library(doc));
    expect(parseYaml(text)).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it("leaves to the library what it does not write: floats, -0, nested sequences, non-plain objects, cycles", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const doc of [
      { ["k".repeat(1025)]: 1 },
      { x: 1.5 },
      { x: -0 },
      { x: Number.NaN },
      { x: [[1]] },
      { x: new Date(0) },
      { x: 10n },
      cyclic,
      {},
    ]) {
      expect(blockYaml(doc as Record<string, unknown>)).toBeUndefined();
    }
  });
});
