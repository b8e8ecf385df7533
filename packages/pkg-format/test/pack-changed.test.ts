import { existsSync } from "node:fs";
import { appendFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { packPackage } from "../src/archive/pack.js";
import { StepFailedError } from "../src/errors.js";
import { ADDON_TREE, tempDir, writeTree } from "./helpers/source-tree.js";

/** Runs once the packer has taken its checksums, before it writes the archive (set by a test). */
let afterChecksums: (() => Promise<void>) | undefined;

vi.mock("../src/archive/source-read.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../src/archive/source-read.js")>();
  return {
    ...original,
    hashSourceFiles: async (...args: Parameters<typeof original.hashSourceFiles>) => {
      const hashes = await original.hashSourceFiles(...args);
      await afterChecksums?.();
      return hashes;
    },
  };
});

let work: string;
beforeEach(async () => {
  work = await tempDir();
});
afterEach(async () => {
  afterChecksums = undefined;
  await rm(work, { recursive: true, force: true });
});

describe("packPackage with a source that changes while it is packed", () => {
  for (const [what, change] of [
    ["rewritten (same size)", (f: string) => writeFile(f, "replicas: 9\n")],
    ["appended to", (f: string) => appendFile(f, "more: 1\n")],
    ["truncated", (f: string) => writeFile(f, "")],
  ] as const) {
    it(`refuses a file ${what} after its checksum was taken, and writes nothing`, async () => {
      await writeTree(join(work, "src"), { ...ADDON_TREE, "data/big.bin": "z".repeat(3 * 1024 * 1024) });
      afterChecksums = () => change(join(work, "src", "values.yaml"));
      const err = await packPackage(join(work, "src"), join(work, "out")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepFailedError);
      expect(err).toMatchObject({
        message: "values.yaml changed while it was being packed",
        where: join(work, "src", "values.yaml"),
        exitCode: 1,
      });
      expect(await readdir(join(work, "out"))).toEqual([]);
    });
  }

  it("packs the same source when nothing changes (control)", async () => {
    await writeTree(join(work, "src"), ADDON_TREE);
    afterChecksums = async () => undefined;
    const r = await packPackage(join(work, "src"), join(work, "out"));
    expect(existsSync(r.file)).toBe(true);
    expect(await readdir(join(work, "out"))).toEqual(["demo-1.2.3.tgz"]);
  });
});
