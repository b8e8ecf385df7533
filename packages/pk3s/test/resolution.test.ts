/** Resolution tables: specs, ranges, prereleases, opaque versions, priorities, qualified names, dependency graphs. */
import { ExitCode, Pk3sError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { describe, expect, it } from "vitest";
import { resolveDependencies, resolveDependencyPlan } from "../src/catalog/dependency-graph.js";
import type { LoadedCatalog, ResolvedEntry } from "../src/catalog/loaded-catalog.js";
import { parseSpec, resolveEntry } from "../src/catalog/resolve.js";

type EntryInit = Partial<ResolvedEntry> & { name: string; version: string };

function catalog(name: string, priority: number, entries: EntryInit[]): LoadedCatalog {
  return {
    source: { name, url: `https://${name}.example/index.yaml`, priority },
    origin: "cache",
    warnings: [],
    entries: entries.map((e) => ({
      type: "addon",
      url: `${e.name}-${e.version}.tgz`,
      resolvedUrl: `https://${name}.example/${e.name}-${e.version}.tgz`,
      catalog: name,
      ...e,
    })),
  };
}

function expectError(fn: () => unknown, exitCode: number, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(Pk3sError);
  expect((caught as Pk3sError).exitCode).toBe(exitCode);
  expect((caught as Pk3sError).message).toMatch(message);
}

describe("parseSpec", () => {
  it.each([
    ["longhorn", { name: "longhorn", catalog: undefined, range: undefined }],
    ["longhorn@^1.2", { name: "longhorn", catalog: undefined, range: "^1.2" }],
    ["acme/longhorn", { name: "longhorn", catalog: "acme", range: undefined }],
    ["acme/longhorn@>=1.0 <2", { name: "longhorn", catalog: "acme", range: ">=1.0 <2" }],
    ["aws-single-node-basic@594a7c9", { name: "aws-single-node-basic", catalog: undefined, range: "594a7c9" }],
  ])("%s", (raw, expected) => {
    expect(parseSpec(raw)).toMatchObject(expected);
  });
  it.each(["Longhorn", "a/b/c", "x@", "../etc", ""])("rejects %j with exit 2", (raw) => {
    expectError(() => parseSpec(raw), ExitCode.usage, /invalid (package|catalog) name|empty version range/);
  });
});

describe("version selection", () => {
  const cats = [
    catalog("main", 0, [
      { name: "lh", version: "1.0.0" },
      { name: "lh", version: "1.2.3" },
      { name: "lh", version: "1.10.0" },
      { name: "lh", version: "2.0.0-rc.1" },
      { name: "lh", version: "2.0.0-rc.2" },
      { name: "pre", version: "0.1.0-alpha.1" },
      { name: "prof", version: "594a7c9", type: "profile" },
      { name: "twoshas", version: "aaaaaaa", type: "profile" },
      { name: "twoshas", version: "bbbbbbb", type: "profile" },
      { name: "mixed", version: "1.0.0" },
      { name: "mixed", version: "abc1234" },
    ]),
  ];
  it.each([
    ["lh", false, "1.10.0"],
    ["lh@*", false, "1.10.0"],
    ["lh@^1.0", false, "1.10.0"],
    ["lh@~1.2", false, "1.2.3"],
    ["lh@1.0.0", false, "1.0.0"],
    ["lh@<1.5", false, "1.2.3"],
    ["lh@^2.0.0-rc.1", false, "2.0.0-rc.2"],
    ["lh@2.0.0-rc.1", false, "2.0.0-rc.1"],
    ["lh", true, "2.0.0-rc.2"],
    ["lh@>=1", true, "2.0.0-rc.2"],
    ["pre", true, "0.1.0-alpha.1"],
    ["mixed", false, "1.0.0"],
    ["mixed@abc1234", false, "abc1234"],
  ])("%s (includePrerelease=%s) → %s", (raw, includePrerelease, version) => {
    expect(resolveEntry(cats, parseSpec(raw), { type: "addon", includePrerelease }).version).toBe(version);
  });
  it.each([
    ["prof", "594a7c9"],
    ["prof@594a7c9", "594a7c9"],
    ["twoshas@bbbbbbb", "bbbbbbb"],
  ])("opaque %s → %s", (raw, version) => {
    expect(resolveEntry(cats, parseSpec(raw), { type: "profile" }).version).toBe(version);
  });
  it("errors: no match, prerelease-only, ambiguous opaque, wrong type, unknown name", () => {
    expectError(
      () => resolveEntry(cats, parseSpec("lh@^3"), { type: "addon" }),
      3,
      /no version of "lh".*matches "\^3".*available: 2.0.0-rc.2, 2.0.0-rc.1, 1.10.0/,
    );
    expectError(() => resolveEntry(cats, parseSpec("pre"), { type: "addon" }), 3, /no version of "pre"/);
    expectError(() => resolveEntry(cats, parseSpec("twoshas"), { type: "profile" }), 3, /no version of "twoshas"/);
    expectError(() => resolveEntry(cats, parseSpec("prof@deadbee"), { type: "profile" }), 3, /no version of "prof"/);
    expectError(() => resolveEntry(cats, parseSpec("prof"), { type: "addon" }), 3, /is a profile, not an add-on/);
    expectError(() => resolveEntry(cats, parseSpec("nope"), { type: "addon" }), 3, /add-on "nope" not found/);
    expectError(() => resolveEntry(cats, parseSpec("lh@not a range!"), { type: "addon" }), 2, /not a valid semver range/);
  });
});

describe("priorities and qualified names", () => {
  const cats = [
    catalog("public", 0, [
      { name: "lh", version: "9.0.0" },
      { name: "only-public", version: "1.0.0" },
    ]),
    catalog("private", 10, [{ name: "lh", version: "1.0.0" }]),
    catalog("other", 10, [{ name: "lh", version: "1.5.0" }]),
  ];
  it.each([
    ["lh", "private", "1.0.0"], // highest priority, first configured among equals; shadows the higher version elsewhere
    ["public/lh", "public", "9.0.0"],
    ["other/lh", "other", "1.5.0"],
    ["only-public", "public", "1.0.0"],
  ])("%s → %s %s", (raw, cat, version) => {
    const e = resolveEntry(cats, parseSpec(raw), { type: "addon" });
    expect([e.catalog, e.version]).toEqual([cat, version]);
  });
  it("a shadowed name does not fall through to a lower-priority catalog", () => {
    expectError(() => resolveEntry(cats, parseSpec("lh@^9"), { type: "addon" }), 3, /catalog "private"/);
  });
  it("an unknown catalog is exit 3", () => {
    expectError(() => resolveEntry(cats, parseSpec("nope/lh"), { type: "addon" }), 3, /no catalog named "nope"/);
  });
});

describe("a catalog that could not be read", () => {
  const down = (priority: number): LoadedCatalog => ({
    ...catalog("down", priority, []),
    origin: "unreadable",
    failure: new StepFailedError('catalog "down": connection failed'),
  });
  const up = catalog("up", 5, [{ name: "lh", version: "1.0.0" }]);

  it("stops resolution when it ranks before the catalog that has the name (fail closed)", () => {
    expectError(() => resolveEntry([up, down(10)], parseSpec("lh"), { type: "addon" }), 1, /catalog "down": connection failed/);
  });
  it("does not when it ranks after it: it could not have won the name", () => {
    expect(resolveEntry([up, down(0)], parseSpec("lh"), { type: "addon" }).catalog).toBe("up");
  });
  it("stops a name no readable catalog has, rather than report it missing", () => {
    expectError(() => resolveEntry([up, down(0)], parseSpec("other"), { type: "addon" }), 1, /connection failed/);
  });
});

describe("dependency graph", () => {
  const dep = (name: string, version = "*") => ({ name, version });
  it("orders dependencies first (diamond)", () => {
    const cats = [
      catalog("main", 0, [
        { name: "app", version: "1.0.0", dependencies: [dep("db", "^1"), dep("cache")] },
        { name: "db", version: "1.0.0", dependencies: [dep("base")] },
        { name: "db", version: "1.4.0", dependencies: [dep("base")] },
        { name: "db", version: "2.0.0", dependencies: [dep("base")] },
        { name: "cache", version: "3.0.0", dependencies: [dep("base", ">=1")] },
        { name: "base", version: "1.1.0" },
      ]),
    ];
    const plan = resolveDependencyPlan(cats, "app");
    expect(plan.order.map((e) => `${e.name}@${e.version}`)).toEqual(["base@1.1.0", "db@1.4.0", "cache@3.0.0", "app@1.0.0"]);
    expect(plan.requirements.base?.map((c) => c.from).sort()).toEqual(["cache@3.0.0", "db@1.4.0"]);
  });
  it("re-picks a version that satisfies every range", () => {
    const cats = [
      catalog("main", 0, [
        { name: "app", version: "1.0.0", dependencies: [dep("a"), dep("b")] },
        { name: "a", version: "1.0.0", dependencies: [dep("lib", "*")] },
        { name: "b", version: "1.0.0", dependencies: [dep("lib", "<2")] },
        { name: "lib", version: "1.9.0" },
        { name: "lib", version: "2.1.0" },
      ]),
    ];
    expect(resolveDependencyPlan(cats, "app").order.map((e) => `${e.name}@${e.version}`)).toEqual([
      "lib@1.9.0",
      "a@1.0.0",
      "b@1.0.0",
      "app@1.0.0",
    ]);
  });
  it("names both sides of a version conflict (exit 4)", () => {
    const cats = [
      catalog("main", 0, [
        { name: "app", version: "1.0.0", dependencies: [dep("a"), dep("b")] },
        { name: "a", version: "1.0.0", dependencies: [dep("lib", "^1")] },
        { name: "b", version: "2.0.0", dependencies: [dep("lib", "^2")] },
        { name: "lib", version: "1.0.0" },
        { name: "lib", version: "2.0.0" },
      ]),
    ];
    expectError(
      () => resolveDependencyPlan(cats, "app"),
      4,
      /conflicting version requirements for "lib": \^1 \(required by a@1.0.0\), \^2 \(required by b@2.0.0\)/,
    );
  });
  it("names the members of a cycle (exit 4)", () => {
    const cats = [
      catalog("main", 0, [
        { name: "a", version: "1.0.0", dependencies: [dep("b")] },
        { name: "b", version: "1.0.0", dependencies: [dep("c")] },
        { name: "c", version: "1.0.0", dependencies: [dep("a")] },
      ]),
    ];
    expectError(() => resolveDependencyPlan(cats, "a"), 4, /dependency cycle: a@1.0.0 -> b@1.0.0 -> c@1.0.0 -> a@1.0.0/);
  });
  it("a missing dependency names who needs it (exit 3)", () => {
    const cats = [catalog("main", 0, [{ name: "a", version: "1.0.0", dependencies: [dep("ghost", "^1")] }])];
    expectError(() => resolveDependencyPlan(cats, "a"), 3, /dependency "ghost" \(required by a@1.0.0\) not found/);
  });
  it("resolves dependencies across catalogs by priority", () => {
    const cats = [
      catalog("public", 0, [
        { name: "app", version: "1.0.0", dependencies: [dep("lib")] },
        { name: "lib", version: "5.0.0" },
      ]),
      catalog("private", 5, [{ name: "lib", version: "1.0.0" }]),
    ];
    const plan = resolveDependencyPlan(cats, "app");
    expect(plan.order.map((e) => `${e.catalog}/${e.name}@${e.version}`)).toEqual(["private/lib@1.0.0", "public/app@1.0.0"]);
  });
});

describe("resolveDependencies (a stack's add-ons at once)", () => {
  const dep = (name: string, version = "*") => ({ name, version });
  const specs = (...raw: string[]) => raw.map(parseSpec);
  const cats = [
    catalog("main", 0, [
      { name: "web", version: "1.0.0", dependencies: [dep("tls", "^1")] },
      { name: "web", version: "1.1.0", dependencies: [dep("tls", "^1")] },
      { name: "db", version: "2.0.0", dependencies: [dep("tls", ">=1.1")] },
      { name: "tls", version: "1.0.0" },
      { name: "tls", version: "1.1.0" },
      { name: "tls", version: "1.2.0" },
    ]),
  ];
  const ref = (p: { order: { name: string; version: string }[] }) => p.order.map((e) => `${e.name}@${e.version}`);

  it("orders every requested package after what it needs, in the order requested, one version per name", () => {
    const plan = resolveDependencies(cats, specs("web@1.0.0", "db"), "stack s@1.0.0");
    expect(ref(plan)).toEqual(["tls@1.2.0", "web@1.0.0", "db@2.0.0"]);
    expect(plan.roots.map((r) => r.name)).toEqual(["web", "db"]);
    expect(plan.requirements.web).toEqual([{ range: "1.0.0", from: "stack s@1.0.0" }]);
  });

  it("keeps preferred (locked) versions where every range still accepts them, and only there", () => {
    const prefer = new Map([
      ["web", "1.0.0"],
      ["tls", "1.0.0"],
    ]);
    expect(ref(resolveDependencies(cats, specs("web"), "stack", { prefer }))).toEqual(["tls@1.0.0", "web@1.0.0"]);
    // db needs tls >=1.1: the pin gives way, to the newest version that fits.
    expect(ref(resolveDependencies(cats, specs("web", "db"), "stack", { prefer }))).toEqual(["tls@1.2.0", "web@1.0.0", "db@2.0.0"]);
    // A pin the stack's own range excludes is not kept.
    expect(ref(resolveDependencies(cats, specs("web@^1.1"), "stack", { prefer }))).toEqual(["tls@1.0.0", "web@1.1.0"]);
  });

  it("a requested package that a dependency needs in another version is a conflict (exit 4)", () => {
    const more = [catalog("main", 0, [...cats[0]!.entries, { name: "app", version: "1.0.0", dependencies: [dep("tls", "^2")] }])];
    expectError(
      () => resolveDependencies(more, specs("tls@1.0.0", "app"), "stack s@1.0.0"),
      4,
      /conflicting version requirements for "tls": 1\.0\.0 \(required by stack s@1\.0\.0\), \^2 \(required by app@1\.0\.0\), but tls@1\.0\.0 was requested/,
    );
  });
});
