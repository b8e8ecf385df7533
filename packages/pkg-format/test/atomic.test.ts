import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  copyFileAtomic,
  readJsonFile,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonAtomic,
  writeJsonAtomicSync,
} from "../src/host/atomic.js";
import { ensurePrivateDir } from "../src/host/paths.js";
import { createRedactor } from "../src/host/redact.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pk3s-atomic-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("atomic writes", () => {
  it("writes 0600 files with no temp file left behind and replaces existing content", async () => {
    const file = join(dir, "state.json");
    await writeJsonAtomic(file, { a: 1 });
    await writeJsonAtomic(file, { a: 2 });
    expect(await readJsonFile(file)).toEqual({ a: 2 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["state.json"]);
  });
  it("copies a file (0600, streamed, replacing the old copy) and leaves nothing when the source is missing", async () => {
    const { writeFile } = await import("node:fs/promises");
    const src = join(dir, "src.bin");
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 7);
    await writeFile(src, big, { mode: 0o644 });
    const dest = join(dir, "kept.bin");
    await copyFileAtomic(src, dest);
    await copyFileAtomic(src, dest);
    expect((await readFile(dest)).equals(big)).toBe(true);
    expect((await stat(dest)).mode & 0o777).toBe(0o600);
    await expect(copyFileAtomic(join(dir, "missing.bin"), dest)).rejects.toThrow(/ENOENT/);
    expect((await readdir(dir)).sort()).toEqual(["kept.bin", "src.bin"]);
    expect((await readFile(dest)).equals(big)).toBe(true);
  });
  it("leaves nothing when the target directory is missing", async () => {
    await expect(writeFileAtomic(join(dir, "missing", "f"), "x")).rejects.toThrow();
    expect(await readdir(dir)).toEqual([]);
  });
  it("the sync variant (interrupt path) writes the same way: 0600, replaced, no temp file left", async () => {
    const file = join(dir, "record.json");
    writeJsonAtomicSync(file, { a: 1 });
    writeJsonAtomicSync(file, { a: 2 });
    expect(await readFile(file, "utf8")).toBe('{\n  "a": 2\n}\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["record.json"]);
    expect(() => writeFileAtomicSync(join(dir, "missing", "f"), "x")).toThrow();
    expect(await readdir(dir)).toEqual(["record.json"]);
  });
  it("readJsonFile returns undefined for a missing file", async () => {
    expect(await readJsonFile(join(dir, "none.json"))).toBeUndefined();
  });
  it("ensurePrivateDir creates 0700 directories", async () => {
    const p = await ensurePrivateDir(join(dir, "a", "b"));
    expect((await stat(p)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(dir, "a", "b", "..", "..", "a", "b", "..", "b", ".."), "utf8").catch((e) => e.code)).toBe("EISDIR");
  });
});

describe("createRedactor", () => {
  it("masks raw, JSON-escaped and URL-encoded forms, longest first", () => {
    const r = createRedactor(['p"ss word', "abcdefgh", undefined, ""]);
    expect(r('x=p"ss word y=abcdefghabcdefgh')).toBe("x=*** y=******");
    expect(r(JSON.stringify({ v: 'p"ss word' }))).toBe('{"v":"***"}');
    expect(r(`u=${encodeURIComponent('p"ss word')}`)).toBe("u=***");
  });
  it("is the identity without secrets", () => {
    expect(createRedactor([])("nothing")).toBe("nothing");
  });
});
