/**
 * The quick checks that spare a package of 20,000 small files most of its per-entry work (issue 19 item 7)
 * accept only what the full rules accept, and give the same result.
 */
import { describe, expect, it } from "vitest";
import { CHECKSUMS_FILE, parseChecksums, verifyChecksums, verifyFileChecksums } from "../src/archive/checksums.js";
import { checkEntryPath, checkEntryPathSlowly, isPlainPath } from "../src/archive/entry-path.js";
import { ArchiveIndex, ContentNotKeptError, READ_BY_VALIDATION } from "../src/archive/package-tree.js";
import { rng } from "./helpers/seeded-random.js";

const PIECES = ["a", "B", "x1", "/", "/", ".", "..", ":", "\\", "é", "\u0001", "\u007f", "\u0085", "\u2028", " ", "-", "_", "C:", "\0"];

function randomPath(r: () => number): string {
  if (r() < 0.05) return "s".repeat(250 + Math.floor(r() * 10)); // around the 255-byte segment limit
  if (r() < 0.05) return `${"d/".repeat(Math.floor(2040 + r() * 20))}f`; // around the 4096-byte path limit
  let s = "";
  const n = Math.floor(r() * 8);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}

describe("checkEntryPath's quick check", () => {
  it("gives the full rules' answer on 20,000 generated paths", () => {
    const r = rng(19);
    let quick = 0;
    for (let i = 0; i < 20_000; i++) {
      const raw = randomPath(r);
      const isDirectory = r() < 0.3;
      if (isPlainPath(raw)) quick++;
      expect(checkEntryPath(raw, isDirectory), JSON.stringify(raw)).toEqual(checkEntryPathSlowly(raw, isDirectory));
    }
    expect(quick).toBeGreaterThan(1000); // the generator reaches the quick path, not only the rules
  });

  it("leaves every unusual path to the rules", () => {
    for (const raw of ["", "/a", "C:a", "a:b", "./a", "a/", "a//b", "a/./b", "..", "a/../b", "a\\b", "é", "a\u2028", "a\u007f"]) {
      expect(isPlainPath(raw), JSON.stringify(raw)).toBe(false);
    }
    expect(isPlainPath("charts/x/templates/deployment.yaml")).toBe(true);
  });
});

describe("parseChecksums' quick line check", () => {
  const hex = "0123456789abcdef".repeat(4);
  it("takes plain lines as they are and sends the others through the rules", () => {
    expect(parseChecksums(`${hex}  a/b.txt\n${hex} *c\n${hex}  ./d\n`)).toEqual(
      new Map([
        ["a/b.txt", hex],
        ["c", hex],
        ["d", hex],
      ]),
    );
    for (const bad of [
      `${hex.toUpperCase()}  a`,
      `${hex}  ../a`,
      `${hex}  /a`,
      `${hex}  a\\b`,
      `${hex}\ta`,
      `${hex}  `,
      `${hex.slice(1)}  a`,
    ]) {
      expect(() => parseChecksums(`${bad}\n`), JSON.stringify(bad)).toThrow(/line 1 is not/);
    }
  });
});

describe("the archive index's onlyNames", () => {
  it("keeps the files validation reads and no other", async () => {
    const index = new ArchiveIndex({ onlyNames: READ_BY_VALIDATION });
    await index.file("charts/x/Chart.yaml", 0o644, Buffer.from("name: x\n"), 8);
    await index.file("manifests/a.yaml", 0o644, Buffer.from("kind: A\n"), 8);
    const tree = index.tree("");
    expect(await tree.readText("charts/x/Chart.yaml")).toBe("name: x\n");
    expect(await tree.kind("manifests/a.yaml")).toBe("file");
    await expect(tree.readText("manifests/a.yaml")).rejects.toBeInstanceOf(ContentNotKeptError);
    expect(index.keptBytes).toBe(8);
  });
});

describe("verifyFileChecksums", () => {
  const h = (c: string) => c.repeat(64);
  const files = [
    { path: "a", hash: h("1") },
    { path: "b/c", hash: h("2") },
    { path: CHECKSUMS_FILE, hash: h("9") },
  ];
  const verdict = (run: () => void) => {
    try {
      run();
      return "ok";
    } catch (err) {
      return String((err as Error).message);
    }
  };
  it("agrees with verifyChecksums on every way a listing can be wrong", () => {
    const listings: [string, string][][] = [
      [
        ["a", h("1")],
        ["b/c", h("2")],
      ],
      [
        ["b/c", h("2")],
        ["a", h("1")],
      ],
      [["a", h("1")]],
      [
        ["a", h("1")],
        ["b/c", h("3")],
      ],
      [
        ["a", h("1")],
        ["b/c", h("2")],
        ["d", h("4")],
      ],
      [
        ["a", h("1")],
        ["b/c", h("2")],
        [CHECKSUMS_FILE, h("9")],
      ],
      [
        ["d", h("4")],
        ["a", h("0")],
      ],
      [],
    ];
    for (const entries of listings) {
      const listed = new Map(entries);
      const expected = verdict(() => verifyChecksums(listed, new Map(files.map((f) => [f.path, f.hash]))));
      expect(
        verdict(() => verifyFileChecksums(listed, files)),
        JSON.stringify(entries),
      ).toBe(expected);
    }
    expect(verdict(() => verifyFileChecksums(new Map(listings[0]), files))).toBe("ok");
  });
});
