/** entryUrlResolver's shortcut for plain relative paths must give exactly what `new URL(ref, base)` gives. */
import { describe, expect, it } from "vitest";
import { entryUrlResolver } from "../src/catalog/indexed-entries.js";

const BASES = [
  "https://catalog.example.com/index.yaml",
  "https://catalog.example.com/a/b/index.yaml?token=x#frag",
  "https://catalog.example.com/",
  "http://127.0.0.1:8080/c/index.yaml",
  "file:///srv/catalog/index.yaml",
  "file:///srv/with%20space/index.yaml",
];

const REFS = [
  "packages/longhorn-1.0.0.tgz",
  "longhorn-1.0.0.tgz",
  "a/b/c_d~e-f.tgz",
  "x.y.z/..tgz",
  ".hidden/p.tgz",
  "./packages/p.tgz",
  "../p.tgz",
  "a/../p.tgz",
  "a/./p.tgz",
  "a/..",
  "/abs/p.tgz",
  "//other.example.com/p.tgz",
  "https://mirror.example.com/p.tgz",
  "file:///etc/passwd",
  "p.tgz?x=1",
  "p.tgz#f",
  "with space.tgz",
  "pct%2Fencoded.tgz",
  "a\\b.tgz",
  "ünï.tgz",
  "javascript:alert(1)",
  "",
];

describe("entryUrlResolver", () => {
  it.each(BASES)("matches new URL() for every reference against %s", (base) => {
    const resolve = entryUrlResolver(base);
    for (const ref of REFS) {
      const got = resolve(ref);
      expect(got === undefined ? undefined : got.toString(), `${ref} against ${base}`).toBe(new URL(ref, base).toString());
    }
  });

  it("takes the shortcut (a string) only for plain relative paths", () => {
    const resolve = entryUrlResolver("https://catalog.example.com/index.yaml");
    expect(resolve("packages/p-1.0.0.tgz")).toBe("https://catalog.example.com/packages/p-1.0.0.tgz");
    for (const ref of ["../p.tgz", "a/./p.tgz", "/abs.tgz", "p.tgz?x", "https://x.example/p.tgz", ".."]) {
      expect(typeof resolve(ref), ref).not.toBe("string");
    }
  });
});
