/**
 * Issue 11, item 7: text that comes from a package, a record or a tool
 * (description, category, helm's answers, a failing hook's last line) reaches
 * the terminal with its control characters escaped: a package cannot clear
 * the screen, set the window title or write the clipboard through Core.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSandbox, fixtures, type Sandbox } from "./helpers/harness.js";

const ESC = "\u001b";
const TITLE = `${ESC}]0;pwned${ESC}\\`; // OSC 0: set the window title
const CLIPBOARD = `${ESC}]52;c;aGk=\u0007`; // OSC 52: write the clipboard
const CLEAR = `${ESC}[2J`;

let sb: Sandbox;
beforeEach(async () => {
  sb = await createSandbox();
});
afterEach(async () => {
  await sb.cleanup();
});

function hasControls(text: string): boolean {
  return [...text].some((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && c !== "\n") || (code >= 0x7f && code <= 0x9f);
  });
}

async function hostileCertManager(files: Record<string, string> = {}): Promise<string> {
  const src = await sb.variant(
    "cert-manager",
    (m) => {
      const meta = m.metadata as Record<string, unknown>;
      meta.description = `Certificates${CLEAR}${TITLE} for the cluster`;
      meta.category = `security${CLIPBOARD}`;
    },
    files,
  );
  return sb.pack(src);
}

describe("package and record text on the terminal", () => {
  it("addon validate shows description and category with their escapes visible", async () => {
    const tgz = await hostileCertManager();
    const r = await sb.run(["addon", "validate", "--tgz", tgz]);
    expect(r.code, r.stderr).toBe(0);
    expect(hasControls(r.stdout)).toBe(false);
    expect(r.stdout).toContain("  description: Certificates\\u{1b}[2J\\u{1b}]0;pwned\\u{1b}\\ for the cluster");
    expect(r.stdout).toContain("  category: security\\u{1b}]52;c;aGk=\\u{7}");
    // --json keeps the data as it is (JSON escapes it)
    const json = JSON.parse((await sb.run(["addon", "validate", "--tgz", tgz, "--json"])).stdout) as { description: string };
    expect(json.description).toBe(`Certificates${CLEAR}${TITLE} for the cluster`);
  });

  it("addon status shows the recorded description escaped", async () => {
    const r0 = await sb.run(["addon", "install", "--tgz", await hostileCertManager()]);
    expect(r0.code, r0.stderr).toBe(0);
    const r = await sb.run(["addon", "status", "cert-manager"]);
    expect(r.code, r.stderr).toBe(0);
    expect(hasControls(r.stdout)).toBe(false);
    expect(r.stdout).toContain("  about:     Certificates\\u{1b}[2J\\u{1b}]0;pwned\\u{1b}\\ for the cluster");
    expect(r.stdout).toContain("  category:  security\\u{1b}]52;c;aGk=\\u{7}");
  });

  it("addon list and status escape what helm answers", async () => {
    const cm = await sb.pack(join(fixtures, "addons/cert-manager"));
    const lh = await sb.pack(join(fixtures, "addons/longhorn"));
    for (const tgz of [cm, lh]) expect((await sb.run(["addon", "install", "--tgz", tgz])).code).toBe(0);
    const releases = join(sb.helmState, "releases.json");
    const state = JSON.parse(await readFile(releases, "utf8")) as Record<string, { status: string }>;
    for (const r of Object.values(state)) r.status = `deployed${CLEAR}${TITLE}`;
    await writeFile(releases, JSON.stringify(state));
    for (const args of [
      ["addon", "list"],
      ["addon", "status", "longhorn"],
    ]) {
      const r = await sb.run(args);
      expect(r.code, r.stderr).toBe(0);
      expect(hasControls(r.stdout), args.join(" ")).toBe(false);
      expect(r.stdout).toContain("deployed\\u{1b}[2J\\u{1b}]0;pwned\\u{1b}\\ rev 1");
    }
  });

  it("a failing hook's last line is escaped in the error and the record", async () => {
    const tgz = await hostileCertManager({
      "scripts/validate.sh": `#!/usr/bin/env bash\nprintf 'validation failed\\033]0;pwned\\007\\033[2J\\n' >&2\nexit 3\n`,
    });
    const r = await sb.run(["addon", "install", "--tgz", tgz]);
    expect(r.code).toBe(1);
    const error = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    expect(error).toEqual(["error: step validate failed: exit 3: validation failed\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"]);
    const record = (await sb.record("cert-manager")) as { steps: { name: string; error?: string }[] };
    expect(record.steps.find((s) => s.name === "validate")?.error).toBe("exit 3: validation failed\\u{1b}]0;pwned\\u{7}\\u{1b}[2J");
  });
});
