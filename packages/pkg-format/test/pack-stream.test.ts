import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type TarItem, tarChunks } from "../src/archive/pack-stream.js";
import { ChunkBuilder, END_OF_ARCHIVE, encodeHeader, padding } from "../src/archive/tar-write.js";
import { StepFailedError } from "../src/errors.js";
import { tempDir } from "./helpers/source-tree.js";

let work: string;
beforeEach(async () => {
  work = await tempDir();
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const sha = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

async function all(items: TarItem[], chunkSize: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of tarChunks(items, { mtime: 1_700_000_000, chunkSize, read: { pieceSize: 700, depth: 3 } })) out.push(chunk);
  return out;
}

describe("ChunkBuilder", () => {
  it("coalesces bytes and zeros into fixed-size chunks, the rest at the end", () => {
    const b = new ChunkBuilder(4);
    const chunks = [...b.append(Buffer.from("ab")), ...b.zeros(3), ...b.append(Buffer.from("cdefghij")), ...b.zeros(0), ...b.end()];
    expect(chunks.map((c) => c.toString("latin1"))).toEqual(["ab\0\0", "\0cde", "fghi", "j"]);
    expect([...new ChunkBuilder(4).end()]).toEqual([]);
  });

  it("copies what it is given and never reuses a chunk it yielded", () => {
    const b = new ChunkBuilder(2);
    const source = Buffer.from("xy");
    const [first] = [...b.append(source)];
    source.write("zz");
    const [second] = [...b.append(source)];
    expect(first?.toString()).toBe("xy");
    expect(second?.toString()).toBe("zz");
  });
});

describe("tarChunks", () => {
  it("is the tar stream of the items: headers, bytes, padding, end marker (read by GNU tar)", async () => {
    const big = Buffer.alloc(5000, "b");
    await writeFile(join(work, "big.bin"), big);
    await writeFile(join(work, "empty"), "");
    const items: TarItem[] = [
      { type: "file", path: "big.bin", abs: join(work, "big.bin"), size: big.length, mode: 0o644, sha256: sha(big) },
      { type: "bytes", path: "checksums.sha256", mode: 0o644, data: Buffer.from("sums\n") },
      { type: "directory", path: "d", mode: 0o755 },
      { type: "file", path: "d/empty", abs: join(work, "empty"), size: 0, mode: 0o755, sha256: sha("") },
    ];
    const chunks = await all(items, 1024);
    const tar = Buffer.concat(chunks);
    const h = (path: string, type: "file" | "directory", size: number, mode: number) =>
      encodeHeader({ path, type, size, mode, mtime: 1_700_000_000 });
    expect(
      tar.equals(
        Buffer.concat([
          h("big.bin", "file", 5000, 0o644),
          big,
          padding(5000),
          h("checksums.sha256", "file", 5, 0o644),
          Buffer.from("sums\n"),
          padding(5),
          h("d", "directory", 0, 0o755),
          h("d/empty", "file", 0, 0o755),
          END_OF_ARCHIVE,
        ]),
      ),
    ).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.length === 1024)).toBe(true);
    expect(chunks.at(-1)?.length).toBe(tar.length % 1024 || 1024);
    await writeFile(join(work, "out.tar"), tar);
    expect(
      execFileSync("tar", ["-tvf", join(work, "out.tar"), "--numeric-owner"], { encoding: "utf8" })
        .trim()
        .split("\n"),
    ).toEqual([
      "-rw-r--r-- 0/0            5000 2023-11-14 22:13 big.bin",
      "-rw-r--r-- 0/0               5 2023-11-14 22:13 checksums.sha256",
      "drwxr-xr-x 0/0               0 2023-11-14 22:13 d/",
      "-rwxr-xr-x 0/0               0 2023-11-14 22:13 d/empty",
    ]);
  });

  it("refuses a file that no longer hashes to its checksum (changed since it was hashed)", async () => {
    await writeFile(join(work, "a"), "new content");
    const items: TarItem[] = [{ type: "file", path: "a", abs: join(work, "a"), size: 11, mode: 0o644, sha256: sha("old content") }];
    const err = await all(items, 512).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepFailedError);
    expect(err).toMatchObject({
      message: "a changed while it was being packed",
      exitCode: 1,
      hint: "pack again once the source is stable",
    });
  });

  it("refuses a file whose size changed since it was listed", async () => {
    await writeFile(join(work, "a"), "longer than listed");
    const items: TarItem[] = [{ type: "file", path: "a", abs: join(work, "a"), size: 6, mode: 0o644, sha256: sha("longer") }];
    await expect(all(items, 512)).rejects.toMatchObject({ message: "a changed while it was being packed" });
  });
});
