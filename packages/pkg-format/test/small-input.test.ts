/**
 * Small package files are read in one call (small-input.ts) instead of a stream: the same verdicts, digests
 * and errors as the streaming path, which everything unusual still takes.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { sha256FileHex } from "../src/archive/digest.js";
import { validatePackageArchive } from "../src/archive/extract.js";
import { readPackageIdentity } from "../src/archive/package-identity.js";
import { gunzipSmall, readSmallFile, SMALL_FILE_BYTES } from "../src/archive/small-input.js";
import { IntegrityError } from "../src/errors.js";
import { cases, checksums, good, INSTALL, MANIFEST } from "./helpers/hostile-archives.js";
import { file, tgz } from "./helpers/tar-builder.js";

// Count the streams opened on package files: the one-read path opens none.
const streamed = vi.hoisted(() => ({ paths: [] as string[] }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const createReadStream = ((path: string, options?: unknown) => {
    streamed.paths.push(String(path));
    return fs.createReadStream(path, options as Parameters<typeof fs.createReadStream>[1]);
  }) as typeof fs.createReadStream;
  return { ...fs, default: { ...fs, createReadStream }, createReadStream };
});

const work = mkdtempSync(join(tmpdir(), "pkgfmt-small-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeEach(() => {
  streamed.paths.length = 0;
});

function write(name: string, bytes: Buffer): string {
  const path = join(work, name);
  writeFileSync(path, bytes);
  return path;
}

const goodPackage = () => tgz(...good(), file("checksums.sha256", checksums({ "scripts/install.sh": INSTALL, "addon.yaml": MANIFEST })));

describe("small package files", () => {
  it("are validated, hashed and identified without a stream, with the streaming path's results", async () => {
    const bytes = goodPackage();
    const path = write("small.tgz", bytes);
    const fromFile = await validatePackageArchive(path, { label: "x.tgz" });
    const fromStream = await validatePackageArchive(Readable.from([bytes]), { label: "x.tgz" });
    expect(fromFile).toEqual(fromStream);
    expect(fromFile.digest).toBe(`sha256:${createHash("sha256").update(bytes).digest("hex")}`);
    expect(await sha256FileHex(path)).toEqual({ hex: createHash("sha256").update(bytes).digest("hex"), size: bytes.length });
    expect(await readPackageIdentity(path)).toEqual({ kind: "addon", name: "demo", version: "1.0.0" });
    expect(streamed.paths).toEqual([]);
  });

  it("over SMALL_FILE_BYTES they stream, as before", async () => {
    const big = randomBytes(SMALL_FILE_BYTES + 1024);
    const path = write("big.tgz", tgz(...good(), file("blob.bin", big)));
    const v = await validatePackageArchive(path);
    expect(v.files).toContain("blob.bin");
    expect((await sha256FileHex(path)).size).toBeGreaterThan(SMALL_FILE_BYTES);
    expect(streamed.paths.filter((p) => p === path).length).toBe(2);
  });

  it("hostile archives get the streaming path's error, word for word", async () => {
    for (const c of cases) {
      const bytes = c.archive();
      const path = write("hostile.tgz", bytes);
      const fromFile = await validatePackageArchive(path, { limits: c.limits, tmpDir: work }).catch((e: unknown) => e);
      const fromStream = await validatePackageArchive(Readable.from([bytes]), { limits: c.limits }).catch((e: unknown) => e);
      expect(fromFile, c.name).toBeInstanceOf(IntegrityError);
      const { where, ...rest } = (fromFile as IntegrityError).toJSON() as { where?: string };
      expect(where).toBe(path);
      const { where: _none, ...streamRest } = (fromStream as IntegrityError).toJSON() as { where?: string };
      expect(rest, c.name).toEqual(streamRest);
    }
  });

  it("readSmallFile and gunzipSmall decline what they cannot vouch for", () => {
    expect(readSmallFile(join(work, "missing.tgz"))).toBeUndefined();
    expect(readSmallFile(work)).toBeUndefined(); // a directory
    expect(readSmallFile(write("over.bin", Buffer.alloc(SMALL_FILE_BYTES + 1)))).toBeUndefined();
    expect(readSmallFile(write("exact.bin", Buffer.alloc(SMALL_FILE_BYTES, 7)))?.length).toBe(SMALL_FILE_BYTES);
    const zipped = gzipSync(Buffer.alloc(1000, 1));
    expect(gunzipSmall(zipped, 1000)?.length).toBe(1000);
    expect(gunzipSmall(zipped, 999)).toBeUndefined(); // over the bound: the stream applies the ratio rule
    expect(gunzipSmall(zipped.subarray(0, zipped.length - 4), 1000)).toBeUndefined(); // truncated
    expect(gunzipSmall(Buffer.from("not gzip"), 1000)).toBeUndefined();
    expect(gunzipSmall(Buffer.alloc(0), 1000)).toBeUndefined();
  });
});
