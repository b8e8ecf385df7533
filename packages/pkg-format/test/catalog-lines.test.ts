/**
 * The line reader of catalog indexes against the reference it replaces: the
 * `yaml` library for values, zod for entries, and the whole-document
 * `parseCatalogDocument` for results and located problems. Generated inputs
 * (seeded, so a failure is reproducible) mix what catalogs hold with what the
 * fast path must hand back to the reference.
 */
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { formatProblem, ValidationError } from "../src/errors.js";
import { fastAlphaEntry, fastV1Entry } from "../src/format/catalog-fast-check.js";
import { parseCatalog, parseCatalogDocument, slowCatalogChecks } from "../src/format/catalog-parse.js";
import { CatalogStreamReader, readCatalogText } from "../src/format/catalog-read.js";
import { CatalogEntrySchema, CatalogV1Alpha1EntrySchema } from "../src/format/schema-catalog.js";
import { findUnknownFields } from "../src/format/schema-problems.js";
import { parseSimpleYaml, UNSUPPORTED } from "../src/format/yaml-lines.js";
import { rng } from "./helpers/seeded-random.js";

const SCALARS = [
  "plain",
  "two words",
  "1.0.0",
  "1.31",
  "1000",
  "0",
  "007",
  "-1",
  "+5",
  "1e3",
  "0x1F",
  "0o17",
  ".inf",
  ".NaN",
  "~",
  "null",
  "NULL",
  "true",
  "False",
  "yes",
  "no",
  "on",
  '"double"',
  '"esc \\" \\\\ \\n \\u00e9"',
  '"yaml esc \\x41"',
  "'single'",
  "'it''s'",
  "value # comment",
  "a#b",
  "a: b",
  "trailing:",
  "[a, b, c]",
  "[]",
  "[a, 'b']",
  "{a: 1}",
  "&anchor x",
  "*alias",
  "!tag x",
  "|",
  ">",
  "- x",
  "-x",
  "?x",
  ":x",
  "@x",
  "`x`",
  "%x",
  "https://example.test/a-1.0.0.tgz",
  "sha256:abc",
  '"unterminated',
  "'unterminated",
  "2026-11-21T00:00:00Z",
  "ünïcödé",
];
/** Scalars the fast path reads itself. */
const COMMON = ["plain", "two words", "1.0.0", "1000", "0", "~", "true", '"double"', "'it''s'", "value # comment", "a#b", "[a, b]", "[]"];
const KEYS = ["name", "version", "url", "description", "tags", "deps", "x", "a.b", "k-1", "1", "true", "__proto__", "name"];

function randomNode(r: () => number, indent: number, depth: number, out: string[], key: string | undefined): void {
  const pad = " ".repeat(indent);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const kind = depth > 2 ? 0 : Math.floor(r() * 3);
  if (kind === 0) {
    out.push(`${pad}${key === undefined ? "- " : `${key}: `}${r() < 0.8 ? pick(COMMON) : pick(SCALARS)}`);
    return;
  }
  const head = key === undefined ? `${pad}-` : `${pad}${key}:`;
  out.push(r() < 0.1 ? `${head} # note` : head);
  const step = r() < 0.05 ? 0 : r() < 0.95 ? 2 : 3;
  const inner = indent + step;
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    if (r() < 0.05) out.push("");
    if (r() < 0.05) out.push(`${" ".repeat(Math.floor(r() * 6))}# comment`);
    if (kind === 1) randomNode(r, inner, depth + 1, out, pick(KEYS));
    else randomNode(r, inner, depth + 1, out, undefined);
  }
}

function randomDocument(seed: number): string {
  const r = rng(seed);
  const out: string[] = [];
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) randomNode(r, 0, 0, out, KEYS[Math.floor(r() * KEYS.length)]!);
  if (r() < 0.05) out.splice(Math.floor(r() * out.length), 0, "\tbad");
  return `${out.join("\n")}\n`;
}

function referenceValue(text: string): { value?: unknown; error?: true } {
  try {
    return { value: parseYaml(text, { uniqueKeys: true, strict: true, prettyErrors: false, maxAliasCount: 100 }) };
  } catch {
    return { error: true };
  }
}

describe("parseSimpleYaml", () => {
  it("reads the shapes catalogs are written in", () => {
    const text = [
      "- name: longhorn",
      "  version: 1.0.0",
      "  size: 12345",
      '  description: "quoted: with colon"',
      "  deprecated: false",
      "  dependencies:",
      "    - name: cert-manager",
      '      version: "^1.0.0"',
      "  tags: [a, b]",
      "  compatibility:",
      "    architectures:",
      "    - amd64",
      "    k3s:",
      '      minVersion: "1.31"',
    ];
    expect(parseSimpleYaml(text)).toEqual(parseYaml(text.join("\n")));
  });

  it("returns the yaml library's value or hands the text back, on 2,000 generated documents", () => {
    let supported = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const text = randomDocument(seed);
      const ours = parseSimpleYaml(text.split("\n"));
      if (ours === UNSUPPORTED) continue;
      supported++;
      const ref = referenceValue(text);
      expect(ref.error, `seed ${seed}: accepted what yaml rejects:\n${text}`).toBeUndefined();
      expect(ours, `seed ${seed}:\n${text}`).toEqual(ref.value);
    }
    // The generator is not only producing things the fast path declines.
    expect(supported).toBeGreaterThan(200);
  });
});

const DIGEST = `sha256:${"a".repeat(64)}`;

function randomEntry(r: () => number): Record<string, unknown> {
  const e: Record<string, unknown> = {
    name: `pkg-${Math.floor(r() * 50)}`,
    version: r() < 0.8 ? `1.${Math.floor(r() * 3)}.0` : "594a7c9",
    type: r() < 0.5 ? "addon" : "profile",
    url: "packages/x.tgz",
  };
  if (r() < 0.7) e.digest = DIGEST;
  if (r() < 0.7) e.size = Math.floor(r() * 10000);
  if (r() < 0.6) e.description = "some text";
  if (r() < 0.3) e.category = "storage";
  if (r() < 0.1) e.deprecated = r() < 0.5;
  if (r() < 0.3) e.dependencies = [r() < 0.5 ? "cert-manager" : { name: "cert-manager", version: r() < 0.5 ? "^1.0.0" : undefined }];
  if (r() < 0.2) e.compatibility = { architectures: ["amd64"], k3s: { minVersion: "1.31" }, requires: { core: { minVersion: "0.1.0" } } };
  if (r() < 0.2) e.inputs = [{ name: "AWS_REGION", required: r() < 0.5, source: r() < 0.5 ? "package-default" : undefined }];
  if (r() < 0.1) e.engine = "opentofu";
  return e;
}

const BAD_VALUES: unknown[] = [
  undefined,
  null,
  "",
  "Bad_Name",
  "x".repeat(60),
  1,
  -1,
  1.5,
  true,
  "md5:abc",
  [],
  {},
  ["x"],
  [{}],
  [{ name: "ok", version: "not a range !!" }],
  [{ name: "ok", extra: 1 }],
  { architectures: [""] },
  { k3s: { minVersion: "x" } },
  { extra: true },
  [{ name: "lower-case" }],
  [{ name: "A", source: "elsewhere" }],
  "stack",
];

function mutate(r: () => number, e: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(e);
  const keys = [...Object.keys(copy), "unknownField", "type", "digest", "dependencies", "compatibility", "inputs"];
  const key = keys[Math.floor(r() * keys.length)]!;
  const value = BAD_VALUES[Math.floor(r() * BAD_VALUES.length)];
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  return copy;
}

describe("fast entry checks", () => {
  it("accept only what zod accepts, and return what zod returns (v1)", () => {
    const r = rng(7);
    let fast = 0;
    for (let i = 0; i < 4000; i++) {
      const raw = i % 2 === 0 ? randomEntry(r) : mutate(r, randomEntry(r));
      const ours = fastV1Entry(raw);
      if (ours === undefined) continue;
      fast++;
      const ref = CatalogEntrySchema.safeParse(raw);
      expect(ref.success, JSON.stringify(raw)).toBe(true);
      expect(JSON.stringify(ours)).toBe(JSON.stringify(ref.data));
      expect(findUnknownFields(CatalogEntrySchema, raw)).toEqual([]);
    }
    expect(fast).toBeGreaterThan(1500);
  });

  it("accept only what zod accepts (v1alpha1)", () => {
    const r = rng(11);
    for (let i = 0; i < 1000; i++) {
      const e = randomEntry(r);
      const raw: Record<string, unknown> = {
        id: e.name,
        name: e.name,
        kind: r() < 0.9 ? e.type : "stack",
        version: e.version,
        artifact: { type: "tgz", url: e.url, ...(e.digest === undefined ? {} : { digest: e.digest }) },
        ...(r() < 0.5 ? { tags: ["opentofu"] } : {}),
        ...(r() < 0.3 ? { install: { requiresLocalOverrides: true, inputs: e.inputs ?? [] } } : {}),
      };
      const input = i % 2 === 0 ? raw : mutate(r, raw);
      const ours = fastAlphaEntry(input);
      if (ours === undefined) continue;
      const ref = CatalogV1Alpha1EntrySchema.safeParse(input);
      expect(ref.success, JSON.stringify(input)).toBe(true);
      expect(findUnknownFields(CatalogV1Alpha1EntrySchema, input)).toEqual([]);
    }
  });
});

function catalogText(seed: number): string {
  const r = rng(seed);
  const lines = ["apiVersion: catalog.productive-k3s.io/v1", "kind: Catalog", "generated: 2026-11-21T00:00:00Z", "entries:"];
  const n = 1 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) {
    const raw = r() < 0.6 ? randomEntry(r) : mutate(r, randomEntry(r));
    // Written by the yaml library in block style, sometimes with flow style or comments mixed in.
    const block = r() < 0.15 ? `- ${JSON.stringify(raw)}` : `- ${raw.name === undefined ? "x: 1" : `name: ${JSON.stringify(raw.name)}`}`;
    lines.push(`  ${block}`);
    for (const [k, v] of Object.entries(raw)) {
      if (k === "name" || r() < 0.02) continue;
      if (block.startsWith("- {")) break;
      if (typeof v === "object" && v !== null) {
        const sub = JSON.stringify(v);
        lines.push(r() < 0.5 ? `    ${k}: ${sub}` : `    ${k}:\n${toBlock(v, 6)}`);
      } else lines.push(`    ${k}: ${v === undefined ? "" : typeof v === "string" && r() < 0.3 ? JSON.stringify(v) : String(v)}`);
      if (r() < 0.03) lines.push("    # a comment");
    }
  }
  if (r() < 0.1) lines.splice(4, 0, "unknownTop: 1");
  if (r() < 0.05) lines.push("  - &a {name: x, version: 1.0.0, type: addon, url: u}", "  - *a");
  return `${lines.join(r() < 0.1 ? "\r\n" : "\n")}\n`;
}

function toBlock(v: unknown, indent: number): string {
  const pad = " ".repeat(indent);
  if (Array.isArray(v)) {
    if (v.length === 0) return `${pad}[]`;
    return v
      .map((item) => {
        if (item !== null && typeof item === "object") {
          const inner = toBlock(item, indent + 2);
          return `${pad}- ${inner.trimStart()}`;
        }
        return `${pad}- ${JSON.stringify(item)}`;
      })
      .join("\n");
  }
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return `${pad}{}`;
    return entries
      .map(([k, x]) =>
        x !== null && typeof x === "object" ? `${pad}${k}:\n${toBlock(x, indent + 2)}` : `${pad}${k}: ${JSON.stringify(x)}`,
      )
      .join("\n");
  }
  return `${pad}${JSON.stringify(v)}`;
}

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (err) {
    if (err instanceof ValidationError) return { message: err.message, problems: err.problems.map(formatProblem) };
    throw err;
  }
}

describe("parseCatalog (line reader) against parseCatalogDocument", () => {
  it("gives the same entries, warnings and located errors on 250 generated indexes", () => {
    let fast = 0;
    for (let seed = 1; seed <= 250; seed++) {
      const text = catalogText(seed);
      for (const options of [{}, { skipInvalidEntries: true }]) {
        if (readCatalogText(text, "c.yaml", options, slowCatalogChecks) !== undefined) fast++;
        expect(
          outcome(() => parseCatalog(text, "c.yaml", options)),
          `seed ${seed}:\n${text}`,
        ).toEqual(outcome(() => parseCatalogDocument(text, "c.yaml", options)));
      }
    }
    expect(fast).toBeGreaterThan(100);
  });

  it("names the file, line and field path of a bad entry without parsing the whole document", () => {
    const text = [
      "apiVersion: catalog.productive-k3s.io/v1",
      "kind: Catalog",
      "entries:",
      "  - name: ok",
      "    version: 1.0.0",
      "    type: addon",
      "    url: a.tgz",
      "  - name: bad",
      "    version: 1.0.0",
      "    type: addon",
      "    url: b.tgz",
      "    digest: md5:abc",
      "    size: -1",
      "",
    ].join("\n");
    const read = readCatalogText(text, "c.yaml", { skipInvalidEntries: true }, slowCatalogChecks);
    expect(read?.list.map((e) => e.name)).toEqual(["ok"]);
    expect(read?.warnings.map(formatProblem)).toEqual([
      'warning: c.yaml:12:13: entries[1].digest: expected sha256:<64 lowercase hex digits>, found string "md5:abc" (entry skipped)',
      "warning: c.yaml:13:11: entries[1].size: expected at least 0, found number -1 (entry skipped)",
    ]);
  });

  it("streams: chunks cut anywhere give the same result, and zod is loaded only for entries that need it", async () => {
    const text = catalogText(42).replace(/\r\n/g, "\n");
    const whole = parseCatalogDocument(text, "c.yaml", { skipInvalidEntries: true });
    for (const size of [1, 7, 64, 4096]) {
      const entries: unknown[] = [];
      let loads = 0;
      const reader = new CatalogStreamReader("c.yaml", {
        skipInvalidEntries: true,
        onEntry: (e) => entries.push(e),
        loadSlow: () => {
          loads++;
          return slowCatalogChecks;
        },
      });
      for (let i = 0; i < text.length; i += size) await reader.push(text.slice(i, i + size));
      const result = await reader.end();
      expect(result?.warnings).toEqual(whole.warnings);
      expect(entries).toEqual(whole.entries);
      expect(loads).toBeLessThanOrEqual(1);
    }
    let loads = 0;
    const clean = new CatalogStreamReader("c.yaml", {
      onEntry: () => undefined,
      loadSlow: () => {
        loads++;
        return slowCatalogChecks;
      },
    });
    await clean.push(
      "apiVersion: catalog.productive-k3s.io/v1\nkind: Catalog\nentries:\n  - name: a\n    version: 1.0.0\n    type: addon\n    url: a.tgz\n",
    );
    expect((await clean.end())?.entries).toBe(1);
    expect(loads).toBe(0);
  });
});
