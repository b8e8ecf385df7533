/** digest.ts: the sha256 helpers the three packages share (pk3s' cache and download use them). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sha256File, sha256FileHex, sha256Hex, sha256HexOf } from "../src/archive/digest.js";
import { IntegrityError } from "../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "pk3s-digest-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

describe("sha256 helpers", () => {
  it("hash text, and a file with its size", async () => {
    expect(sha256Hex("abc")).toBe(ABC);
    const file = join(dir, "abc");
    writeFileSync(file, "abc");
    expect(await sha256FileHex(file)).toEqual({ hex: ABC, size: 3 });
    expect(await sha256File(file)).toBe(`sha256:${ABC}`);
  });

  it("sha256HexOf takes sha256:<hex> in any case and refuses anything else (integrity error, exit 6)", () => {
    expect(sha256HexOf(` SHA256:${ABC.toUpperCase()} `, "x")).toBe(ABC);
    for (const bad of ["sha256:abc", `sha512:${ABC}`, ABC, ""]) {
      let caught: unknown;
      try {
        sha256HexOf(bad, "package a@1.0.0");
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(IntegrityError);
      expect((caught as IntegrityError).exitCode).toBe(6);
      expect((caught as IntegrityError).message).toBe(`package a@1.0.0: unsupported digest "${bad}"`);
    }
  });
});
