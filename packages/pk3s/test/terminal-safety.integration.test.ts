/**
 * Terminal escape injection (issue 11, item 7): catalog fields were printed
 * raw, so a catalog could clear the screen, set the window title, write the
 * clipboard (OSC 52), use a C1 CSI or reorder text with a bidi override.
 * Every human output of remote data must hold no raw control character, and
 * show that something odd was there.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { digestOf, pkg } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";
import { writeStubRuntime } from "./helpers/stub-runtime.js";

const CLEAR = "\u001b[2J";
const TITLE = "\u001b]0;pwned\u0007";
const CLIPBOARD = "\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007";
const C1_CSI = "\u009b31m";
const BIDI = "\u202everified\u202c";
const HOSTILE = `${CLEAR}${TITLE}${CLIPBOARD}${C1_CSI}${BIDI}\r\u0085\u2028x`;

/** Any control character a terminal could act on (newline and tab are layout, and allowed). */
function isRawControl(code: number): boolean {
  if (code < 0x20) return code !== 0x0a && code !== 0x09;
  return (
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function expectTerminalSafe(...outputs: string[]): void {
  for (const text of outputs) {
    const at = [...text].findIndex((ch) => isRawControl(ch.codePointAt(0) ?? 0));
    const chars = [...text];
    expect(
      at === -1
        ? null
        : { char: chars[at]?.codePointAt(0)?.toString(16), near: JSON.stringify(chars.slice(Math.max(0, at - 30), at + 10).join("")) },
    ).toBeNull();
  }
}

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

const addon = pkg("shiny", "1.0.0");
const profile = pkg("labby", "1.0.0", { type: "profile" });

function writeCatalog(dir: string, doc: unknown, files: { path: string; bytes: Buffer }[] = []): string {
  mkdirSync(join(dir, "packages"), { recursive: true });
  for (const f of files) writeFileSync(join(dir, f.path), f.bytes);
  writeFileSync(join(dir, "index.yaml"), stringify(doc));
  return join(dir, "index.yaml");
}

function hostileV1(): string {
  return writeCatalog(
    join(sb.root, "v1"),
    {
      apiVersion: "catalog.productive-k3s.io/v1",
      kind: "Catalog",
      entries: [
        {
          name: "shiny",
          version: "1.0.0",
          type: "addon",
          url: "packages/shiny-1.0.0.tgz",
          digest: digestOf(addon.bytes),
          size: addon.bytes.length,
          description: `Fast storage ${HOSTILE}`,
          category: `storage${HOSTILE}`,
          compatibility: { architectures: [`amd64${HOSTILE}`], kubernetes: { distros: [`k3s${C1_CSI}`] } },
          [`x-note${CLEAR}`]: "an unknown field whose key is hostile",
        },
        {
          name: "labby",
          version: "1.0.0",
          type: "profile",
          url: "packages/labby-1.0.0.tgz",
          digest: digestOf(profile.bytes),
          description: `Lab ${TITLE}`,
          inputs: [{ name: "AWS_REGION", required: true, description: `region ${CLIPBOARD}${BIDI}` }],
        },
      ],
    },
    [
      { path: "packages/shiny-1.0.0.tgz", bytes: addon.bytes },
      { path: "packages/labby-1.0.0.tgz", bytes: profile.bytes },
    ],
  );
}

describe("catalog fields never reach the terminal raw", () => {
  it("search, show, catalog list/update, pull", async () => {
    expect((await sb.run(["catalog", "add", "evil", hostileV1()])).code).toBe(0);
    const search = await sb.run(["search"]);
    expect(search.code).toBe(0);
    // Escaped, not dropped: the user sees that something odd was there.
    expect(search.stdout).toContain("Fast storage \\u{1b}[2J\\u{1b}]0;pwned\\u{7}");
    expect(search.stdout).toContain("\\u{9b}31m\\u{202e}verified\\u{202c}\\r\\u{85}\\u{2028}x");
    const searchTerm = await sb.run(["search", "storage"]);
    const show = await sb.run(["addon", "show", "shiny"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("category:    storage\\u{1b}[2J");
    expect(show.stdout).toContain("arch: amd64\\u{1b}[2J");
    const profileShow = await sb.run(["profile", "show", "labby"]);
    expect(profileShow.code).toBe(0);
    expect(profileShow.stdout).toContain("region \\u{1b}]52;c;Y3VybCBldmlsIHwgc2g=\\u{7}\\u{202e}verified");
    const update = await sb.run(["catalog", "update"]);
    expect(update.code).toBe(0);
    expect(update.stderr).toContain("x-note\\u{1b}[2J");
    const list = await sb.run(["catalog", "list"]);
    const pull = await sb.run(["addon", "pull", "shiny", "--output", join(sb.root, "out")]);
    expect(pull.code).toBe(0);
    expectTerminalSafe(
      search.stdout,
      search.stderr,
      searchTerm.stdout,
      show.stdout,
      show.stderr,
      profileShow.stdout,
      update.stdout,
      update.stderr,
      list.stdout,
      pull.stdout,
      pull.stderr,
    );
  });

  it("the published v1alpha1 format: descriptions, categories, tags and left-out kinds", async () => {
    const index = writeCatalog(join(sb.root, "alpha"), {
      apiVersion: "catalogs.productive-k3s.io/v1alpha1",
      kind: "ProductiveK3SCatalog",
      metadata: { name: `pub${TITLE}` },
      entries: [
        {
          id: `addon/shiny${CLEAR}`,
          name: "shiny",
          kind: "addon",
          category: `net${C1_CSI}`,
          description: `desc ${HOSTILE}`,
          version: "1.0.0",
          artifact: { type: "tgz", url: "packages/shiny-1.0.0.tgz" },
          tags: [`tag${CLIPBOARD}`],
        },
        { id: "s", name: "bundle", kind: `stack${C1_CSI}${BIDI}`, version: "1.0.0", artifact: { type: "tgz", url: "x.tgz" } },
      ],
    });
    expect((await sb.run(["catalog", "add", "alpha", index])).code).toBe(0);
    const search = await sb.run(["search"]);
    const show = await sb.run(["addon", "show", "shiny"]);
    const update = await sb.run(["catalog", "update"]);
    expect(search.stdout).toContain("desc \\u{1b}[2J");
    expect(update.stderr).toContain("\\u{9b}31m");
    expectTerminalSafe(search.stdout, search.stderr, show.stdout, show.stderr, update.stdout, update.stderr);
  });

  it("errors quoting a catalog's values", async () => {
    const index = writeCatalog(join(sb.root, "broken"), {
      apiVersion: `catalog.productive-k3s.io/v1${C1_CSI}${BIDI}`,
      kind: "Catalog",
      entries: [],
    });
    const r = await sb.run(["catalog", "add", "broken", index]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("\\u{9b}31m");
    expectTerminalSafe(r.stdout, r.stderr);
  });

  it("the install plan, with Core's answers echoing package data", async () => {
    expect((await sb.run(["catalog", "add", "evil", hostileV1()])).code).toBe(0);
    const bin = join(sb.root, "bin");
    mkdirSync(bin);
    const kubeconfig = join(sb.root, "kubeconfig.yaml");
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": `lab${TITLE}`,
        contexts: [{ name: `lab${TITLE}`, context: { cluster: "c", user: "u" } }],
        clusters: [{ name: "c", cluster: { server: `https://10.1.2.3:6443/${CLEAR}` } }],
      }),
    );
    const coreDoc = {
      ok: true,
      dryRun: true,
      action: "install",
      name: "shiny",
      version: "1.0.0",
      commands: [{ step: `helm${CLEAR}`, argv: ["helm", "upgrade", `release${C1_CSI}`, `--set=x${BIDI}`] }],
    };
    const r = await sb.run(["addon", "install", "shiny", "--kubeconfig", kubeconfig, "--dry-run"], {
      PK3S_CORE_BIN: writeStubRuntime(bin, "productive-k3s-core"),
      STUB_STDOUT_addon_install: JSON.stringify(coreDoc),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("would run [helm\\u{1b}[2J]");
    expectTerminalSafe(r.stdout, r.stderr);
  });
});
