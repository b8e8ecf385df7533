import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashSourceFiles, readFilesAhead, type SourceFile } from "../src/archive/source-read.js";
import { StepFailedError } from "../src/errors.js";
import { tempDir } from "./helpers/source-tree.js";

let work: string;
beforeEach(async () => {
  work = await tempDir();
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const openFds = (): number => readdirSync("/proc/self/fd").length;
const hasProcFd = existsSync("/proc/self/fd");

async function files(contents: Record<string, string>): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  for (const [path, content] of Object.entries(contents)) {
    await writeFile(join(work, path), content);
    out.push({ path, abs: join(work, path), size: Buffer.byteLength(content) });
  }
  return out;
}

async function collect(list: SourceFile[], pieceSize: number, depth: number): Promise<{ index: number; data: string; last: boolean }[]> {
  const out: { index: number; data: string; last: boolean }[] = [];
  for await (const p of readFilesAhead(list, { pieceSize, depth })) out.push({ index: p.index, data: p.data.toString(), last: p.last });
  return out;
}

describe("readFilesAhead", () => {
  it("gives every file's bytes in order, in pieces of at most pieceSize, the last one flagged", async () => {
    const list = await files({ a: "0123456789", empty: "", b: "abcd", c: "xy" });
    expect(await collect(list, 4, 3)).toEqual([
      { index: 0, data: "0123", last: false },
      { index: 0, data: "4567", last: false },
      { index: 0, data: "89", last: true },
      { index: 1, data: "", last: true },
      { index: 2, data: "abcd", last: true },
      { index: 3, data: "xy", last: true },
    ]);
    // Whatever the read-ahead, the stream is the same.
    expect(await collect(list, 1024, 1)).toEqual([
      { index: 0, data: "0123456789", last: true },
      { index: 1, data: "", last: true },
      { index: 2, data: "abcd", last: true },
      { index: 3, data: "xy", last: true },
    ]);
  });

  it("gives nothing for no files", async () => {
    expect(await collect([], 4, 2)).toEqual([]);
  });

  it("hashes every file (hashSourceFiles)", async () => {
    const list = await files({ a: "hello", b: "", c: "x".repeat(10_000) });
    const sha = (s: string) => createHash("sha256").update(s).digest("hex");
    expect(await hashSourceFiles(list, { pieceSize: 3000, depth: 2 })).toEqual(
      new Map([
        ["a", sha("hello")],
        ["b", sha("")],
        ["c", sha("x".repeat(10_000))],
      ]),
    );
  });

  for (const [what, content, listed] of [
    ["grew", "0123456789", 8],
    ["grew (listed size a multiple of the piece size)", "0123456789", 4],
    ["grew (listed empty)", "x", 0],
    ["shrank", "0123", 8],
    ["shrank (listed size a multiple of the piece size)", "01", 4],
  ] as const) {
    it(`refuses a file that ${what} since it was listed`, async () => {
      const [file] = await files({ f: content });
      const list: SourceFile[] = [{ ...(file as SourceFile), size: listed }];
      const err = await collect(list, 4, 2).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepFailedError);
      expect(err).toMatchObject({ message: "f changed while it was being packed", exitCode: 1 });
    });
  }

  it("reports a file that vanished", async () => {
    const list = await files({ a: "x" });
    list.push({ path: "gone", abs: join(work, "gone"), size: 1 });
    await expect(collect(list, 4, 2)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it.skipIf(!hasProcFd)("closes every file, also when stopped early or failing", async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 40; i++) many[`f${i}`] = "y".repeat(i * 3);
    const list = await files(many);
    const before = openFds();
    await collect(list, 16, 8);
    expect(openFds()).toBe(before);
    let seen = 0;
    for await (const _ of readFilesAhead(list, { pieceSize: 16, depth: 8 })) if (++seen === 5) break;
    expect(openFds()).toBe(before);
    const bad = list.map((f, i) => (i === 10 ? { ...f, size: f.size + 1 } : f));
    await expect(collect(bad, 16, 8)).rejects.toBeInstanceOf(StepFailedError);
    expect(openFds()).toBe(before);
  });
});
