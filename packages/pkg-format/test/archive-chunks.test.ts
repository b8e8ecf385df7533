/**
 * Packages large enough to span many decompressed chunks: entries straddle
 * chunk boundaries, small bodies arrive whole (and are handed on as one
 * buffer), large ones stream. Extraction, inspection and validation must see
 * exactly the bytes that were packed, and checksums must still catch a
 * single changed byte.
 */
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractPackage, validatePackageArchive } from "../src/archive/extract.js";
import { inspectPackage } from "../src/archive/inspect.js";
import { ArchiveIndex } from "../src/archive/package-tree.js";
import { IntegrityError } from "../src/errors.js";
import { pseudoRandomBytes } from "./helpers/pseudo-random.js";
import { tempDir } from "./helpers/source-tree.js";
import { dir, file, tgz } from "./helpers/tar-builder.js";

const MANIFEST = `apiVersion: addons.productive-k3s.io/v1
kind: Addon
metadata:
  name: chunky
  version: 1.0.0
  category: example
spec:
  type: shell
  install:
    script: scripts/install.sh
`;

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

const bytes = pseudoRandomBytes;

const SIZES = [0, 1, 100, 511, 512, 513, 1024, 3000, 9000];

/** ~1.5 MiB of files of awkward sizes (and one of 600 KiB, which cannot arrive in one chunk), with checksums. */
function contents(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  files.set("addon.yaml", Buffer.from(MANIFEST));
  files.set("scripts/install.sh", Buffer.from("#!/bin/sh\necho hi\n"));
  for (let i = 0; i < 300; i++) files.set(`data/${String(i % 7)}/f${i}.bin`, bytes(SIZES[i % SIZES.length] as number, i + 1));
  files.set("data/large.bin", bytes(600 * 1024, 999));
  return files;
}

function archive(files: Map<string, Buffer>, checksummed: Map<string, Buffer> = files): Buffer {
  const paths = [...files.keys()].sort();
  const sums = paths.map((p) => `${sha(checksummed.get(p) as Buffer)}  ${p}\n`).join("");
  const dirs = [...new Set(paths.filter((p) => p.includes("/")).map((p) => p.slice(0, p.lastIndexOf("/"))))].sort();
  return tgz(
    ...dirs.map((d) => dir(d)),
    ...paths.map((p) => file(p, files.get(p) as Buffer, p.endsWith(".sh") ? 0o755 : 0o644)),
    file("checksums.sha256", sums),
  );
}

/** The compressed bytes as a stream of small, uneven chunks. */
function trickle(data: Buffer): Readable {
  const sizes = [1, 97, 4096, 13, 65536, 511];
  const chunks: Buffer[] = [];
  for (let pos = 0, i = 0; pos < data.length; i++) {
    const n = sizes[i % sizes.length] as number;
    chunks.push(data.subarray(pos, pos + n));
    pos += n;
  }
  return Readable.from(chunks);
}

let work: string;
beforeEach(async () => {
  work = await tempDir("pkgfmt-chunks-");
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("packages spanning many decompressed chunks", () => {
  it("extract writes exactly the packed bytes (file and trickled stream)", async () => {
    const files = contents();
    const tgzFile = join(work, "chunky.tgz");
    await writeFile(tgzFile, archive(files));
    for (const [i, source] of [tgzFile, trickle(archive(files))].entries()) {
      const out = await extractPackage(source, { destination: join(work, `out-${i}`) });
      expect(out.checksumsVerified).toBe(true);
      expect(out.files).toEqual([...files.keys(), "checksums.sha256"].sort());
      for (const [p, data] of files) expect(sha(await readFile(join(out.root, p))), p).toBe(sha(data));
      await out.cleanup();
    }
  });

  it("validate and inspect agree with extraction without writing anything", async () => {
    const files = contents();
    const tgzFile = join(work, "chunky.tgz");
    await writeFile(tgzFile, archive(files));
    const validated = await validatePackageArchive(tgzFile);
    expect(validated.extracted).toBe(false);
    expect(validated.checksumsVerified).toBe(true);
    expect(validated.files).toEqual([...files.keys(), "checksums.sha256"].sort());
    const inspected = await inspectPackage(trickle(archive(files)));
    expect(inspected.files.map((f) => [f.path, f.size])).toEqual(
      [...files.keys(), "checksums.sha256"].sort().map((p) => [p, p === "checksums.sha256" ? expect.any(Number) : files.get(p)?.length]),
    );
    expect(inspected.digest).toBe(validated.digest);
  });

  it("one changed byte anywhere is a checksum mismatch naming that file", async () => {
    for (const victim of ["data/3/f3.bin", "data/large.bin", "data/3/f150.bin"]) {
      const original = contents();
      const tampered = new Map(original);
      const data = Buffer.from(original.get(victim) as Buffer);
      const at = Math.floor(data.length / 2);
      data[at] = (data[at] as number) ^ 1;
      tampered.set(victim, data);
      const tgzFile = join(work, "tampered.tgz");
      await writeFile(tgzFile, archive(tampered, original));
      for (const run of [
        () => extractPackage(tgzFile, { tmpDir: work }),
        () => validatePackageArchive(tgzFile),
        () => inspectPackage(trickle(archive(tampered, original))),
      ]) {
        const err = await run().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(IntegrityError);
        expect({ reason: (err as IntegrityError).reason, entry: (err as IntegrityError).entry }).toEqual({
          reason: "checksum-mismatch",
          entry: victim,
        });
      }
    }
  });
});

describe("archive index", () => {
  it("keeps a copy of a body handed over whole, not a view into the decompressed chunk", async () => {
    const chunk = Buffer.from("xxhello worldyy");
    const index = new ArchiveIndex();
    await index.file("a.txt", 0o644, chunk.subarray(2, 13), 11);
    chunk.fill(0x2a);
    expect(await index.tree("").readText("a.txt")).toBe("hello world");
    expect(index.keptBytes).toBe(11);
  });
});
