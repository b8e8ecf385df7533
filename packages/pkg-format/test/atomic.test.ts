import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
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
  it("copyFileAtomic: a private copy, replaced whole, no temp file left", async () => {
    const source = join(dir, "pkg.tgz");
    await writeFile(source, "bytes-1");
    await chmod(source, 0o644);
    await copyFileAtomic(source, join(dir, "kept.tgz"));
    await writeFile(source, "bytes-2");
    await copyFileAtomic(source, join(dir, "kept.tgz"));
    expect(await readFile(join(dir, "kept.tgz"), "utf8")).toBe("bytes-2");
    expect((await stat(join(dir, "kept.tgz"))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual(["kept.tgz", "pkg.tgz"]);
    await expect(copyFileAtomic(join(dir, "none"), join(dir, "x"))).rejects.toMatchObject({ code: "ENOENT" });
    expect((await readdir(dir)).sort()).toEqual(["kept.tgz", "pkg.tgz"]);
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
    const r = createRedactor(['p"ss word', "abc", undefined, ""]);
    expect(r('x=p"ss word y=abcabc')).toBe("x=*** y=******");
    expect(r(JSON.stringify({ v: 'p"ss word' }))).toBe('{"v":"***"}');
    expect(r(`u=${encodeURIComponent('p"ss word')}`)).toBe("u=***");
  });
  it("is the identity without secrets", () => {
    expect(createRedactor([])("nothing")).toBe("nothing");
  });
});
