/**
 * readTar must report the same entries, bodies and errors however the
 * decompressed stream is cut into chunks: headers and bodies that straddle
 * chunk boundaries, bodies split across many tiny chunks, zero-length files,
 * the end-of-archive blocks in chunks of their own.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readTar, TarFormatError } from "../src/archive/tar-read.js";
import { pseudoRandomBytes } from "./helpers/pseudo-random.js";
import { dir, entry, file, gnuLong, header, pax, tar } from "./helpers/tar-builder.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function* from(chunks: Buffer[]): AsyncGenerator<Buffer> {
  // Copies, so that a reader keeping views into a chunk would be caught by the content checks.
  for (const c of chunks) yield Buffer.from(c);
}

const bytes = pseudoRandomBytes;

type Chunking = { name: string; split: (b: Buffer) => Buffer[] };

const fixed = (size: number): Chunking => ({
  name: `${size}-byte chunks`,
  split: (b) => Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size)),
});

const CHUNKINGS: Chunking[] = [
  { name: "one chunk", split: (b) => [b] },
  fixed(1),
  fixed(7),
  fixed(511),
  fixed(512),
  fixed(513),
  fixed(4096 + 17),
  { name: "last block alone", split: (b) => [b.subarray(0, b.length - 512), b.subarray(b.length - 512)] },
  {
    name: "each end-of-archive block alone",
    split: (b) => [b.subarray(0, b.length - 1024), b.subarray(b.length - 1024, b.length - 512), b.subarray(b.length - 512)],
  },
  {
    name: "uneven chunks",
    split: (b) => {
      const out: Buffer[] = [];
      const sizes = [1, 300, 1000, 2, 511, 9000, 64, 513];
      for (let pos = 0, i = 0; pos < b.length; i++) {
        const n = sizes[i % sizes.length] as number;
        out.push(b.subarray(pos, pos + n));
        pos += n;
      }
      return out;
    },
  },
];

type Strategy = "buffered-or-stream" | "stream" | "skip";
const STRATEGIES: Strategy[] = ["buffered-or-stream", "stream", "skip"];

interface Seen {
  path: string;
  type: string;
  size: number;
  mode: number;
  linkpath: string | undefined;
  sha?: string;
}

async function read(chunks: Buffer[], strategy: Strategy): Promise<{ entries: Seen[]; error?: { reason: string; message: string } }> {
  const entries: Seen[] = [];
  try {
    for await (const e of readTar(from(chunks))) {
      const seen: Seen = { path: e.path, type: e.type, size: e.size, mode: e.mode, linkpath: e.linkpath };
      entries.push(seen);
      if (strategy === "skip") continue;
      let data = strategy === "buffered-or-stream" ? e.bufferedBody() : undefined;
      if (data === undefined) {
        const parts: Buffer[] = [];
        for await (const c of e.body()) parts.push(Buffer.from(c));
        data = Buffer.concat(parts);
      }
      seen.sha = sha(data);
    }
  } catch (err) {
    if (!(err instanceof TarFormatError)) throw err;
    return { entries, error: { reason: err.reason, message: err.message } };
  }
  return { entries };
}

const longName = `${"deep/".repeat(40)}long.txt`;
const WELL_FORMED = tar(
  dir("pkg"),
  file("pkg/addon.yaml", "kind: Addon\n"),
  file("pkg/empty", ""),
  file("pkg/one", "x"),
  file("pkg/exactly-512", bytes(512, 1)),
  file("pkg/513", bytes(513, 2)),
  file("pkg/511", bytes(511, 3)),
  pax({ path: `pkg/${"p/".repeat(70)}pax.txt` }),
  file("pkg/placeholder-pax", "pax body"),
  gnuLong(longName),
  file("pkg/placeholder-gnu", bytes(1500, 4)),
  file("pkg/big.bin", bytes(70_000, 5), 0o755),
  entry({ name: "pkg/link", type: "2", linkname: "addon.yaml" }),
  file("pkg/caf\u00e9.txt", "utf-8 name"),
  file("pkg/last", bytes(100, 6)),
);

const EXPECTED: Seen[] = [
  { path: "pkg/", type: "directory", size: 0, mode: 0o755, linkpath: undefined, sha: sha(Buffer.alloc(0)) },
  { path: "pkg/addon.yaml", type: "file", size: 12, mode: 0o644, linkpath: undefined, sha: sha(Buffer.from("kind: Addon\n")) },
  { path: "pkg/empty", type: "file", size: 0, mode: 0o644, linkpath: undefined, sha: sha(Buffer.alloc(0)) },
  { path: "pkg/one", type: "file", size: 1, mode: 0o644, linkpath: undefined, sha: sha(Buffer.from("x")) },
  { path: "pkg/exactly-512", type: "file", size: 512, mode: 0o644, linkpath: undefined, sha: sha(bytes(512, 1)) },
  { path: "pkg/513", type: "file", size: 513, mode: 0o644, linkpath: undefined, sha: sha(bytes(513, 2)) },
  { path: "pkg/511", type: "file", size: 511, mode: 0o644, linkpath: undefined, sha: sha(bytes(511, 3)) },
  { path: `pkg/${"p/".repeat(70)}pax.txt`, type: "file", size: 8, mode: 0o644, linkpath: undefined, sha: sha(Buffer.from("pax body")) },
  { path: longName, type: "file", size: 1500, mode: 0o644, linkpath: undefined, sha: sha(bytes(1500, 4)) },
  { path: "pkg/big.bin", type: "file", size: 70_000, mode: 0o755, linkpath: undefined, sha: sha(bytes(70_000, 5)) },
  { path: "pkg/link", type: "symlink", size: 0, mode: 0o644, linkpath: "addon.yaml", sha: sha(Buffer.alloc(0)) },
  { path: "pkg/caf\u00e9.txt", type: "file", size: 10, mode: 0o644, linkpath: undefined, sha: sha(Buffer.from("utf-8 name")) },
  { path: "pkg/last", type: "file", size: 100, mode: 0o644, linkpath: undefined, sha: sha(bytes(100, 6)) },
];

describe("readTar reports the same entries whatever the chunking", () => {
  for (const strategy of STRATEGIES) {
    for (const chunking of CHUNKINGS) {
      it(`${strategy}, ${chunking.name}`, async () => {
        const got = await read(chunking.split(WELL_FORMED), strategy);
        expect(got.error).toBeUndefined();
        const expected = strategy === "skip" ? EXPECTED.map(({ sha: _sha, ...rest }) => rest) : EXPECTED;
        expect(got.entries).toEqual(expected);
      });
    }
  }

  it("hands out a buffered body only once, and not after body() started", async () => {
    for await (const e of readTar(from([WELL_FORMED]))) {
      if (e.path !== "pkg/addon.yaml") continue;
      expect(e.bufferedBody()?.toString()).toBe("kind: Addon\n");
      expect(() => e.bufferedBody()).toThrow("read twice");
      await expect(e.body().next()).rejects.toThrow("read twice");
    }
  });

  it("says the body is not buffered (undefined) while it has not all arrived, and streams it instead", async () => {
    const chunks = fixed(1000).split(tar(file("f", bytes(5000, 9))));
    for await (const e of readTar(from(chunks))) {
      expect(e.bufferedBody()).toBeUndefined();
      const parts: Buffer[] = [];
      for await (const c of e.body()) parts.push(Buffer.from(c));
      expect(sha(Buffer.concat(parts))).toBe(sha(bytes(5000, 9)));
    }
  });
});

/** A header with a correct checksum but arbitrary bytes in `field` (offset, text). */
function patched(name: string, size: number, offset: number, text: string): Buffer {
  const h = header({ name, size });
  h.write(text, offset, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return h;
}

const HOSTILE: { name: string; archive: Buffer; reason: string; message: RegExp }[] = [
  {
    name: "truncated inside a body",
    archive: Buffer.concat([file("a", "x"), header({ name: "cut", size: 5000 }), bytes(1000, 1)]),
    reason: "truncated",
    message: /truncated inside cut/,
  },
  {
    name: "truncated inside the padding",
    archive: Buffer.concat([file("a", "x"), header({ name: "pad", size: 10 }), bytes(10, 2)]),
    reason: "truncated",
    message: /truncated inside pad/,
  },
  {
    name: "truncated inside a header",
    archive: Buffer.concat([file("a", "x"), header({ name: "h" }).subarray(0, 300)]),
    reason: "truncated",
    message: /inside a header/,
  },
  { name: "no end-of-archive marker", archive: Buffer.concat([file("a", "x")]), reason: "truncated", message: /no end-of-archive/ },
  {
    name: "bad header checksum",
    archive: tar(file("a", "x"), entry({ name: "bad", badChecksum: true }, "y")),
    reason: "corrupt-tar",
    message: /checksum mismatch/,
  },
  {
    name: "zero block then data",
    archive: Buffer.concat([file("a", "x"), Buffer.alloc(512), file("b", "y"), Buffer.alloc(1024)]),
    reason: "corrupt-tar",
    message: /zero block in the middle/,
  },
  {
    name: "non-octal size",
    archive: tar(file("a", "x"), patched("odd", 1, 124, `12 34${"\0".repeat(7)}`), Buffer.alloc(512)),
    reason: "corrupt-tar",
    message: /size is not an octal number: "12 34"/,
  },
  {
    name: "NUL inside the mode field",
    archive: tar(file("a", "x"), patched("odd", 1, 100, "\x0012 \0"), Buffer.alloc(512)),
    reason: "corrupt-tar",
    message: /mode is not an octal number/,
  },
  {
    name: "negative base-256 size",
    archive: tar(file("a", "x"), patched("neg", 0, 124, "\xff"), Buffer.alloc(512)),
    reason: "corrupt-tar",
    message: /negative or oversized base-256/,
  },
  {
    name: "invalid UTF-8 name",
    archive: tar(file("a", "x"), patched("ok", 0, 0, "bad\xff\xfe")),
    reason: "corrupt-tar",
    message: /name is not valid UTF-8/,
  },
];

describe("readTar rejects broken archives the same way whatever the chunking", () => {
  for (const c of HOSTILE) {
    it(c.name, async () => {
      for (const strategy of STRATEGIES) {
        const reference = await read([c.archive], strategy);
        expect(reference.error?.reason).toBe(c.reason);
        expect(reference.error?.message).toMatch(c.message);
        for (const chunking of CHUNKINGS.slice(1)) {
          // Same entries and the same error; whether the consumer saw a body whose padding was cut may differ.
          const got = await read(chunking.split(c.archive), strategy);
          const paths = (r: typeof got) => r.entries.map((e) => e.path);
          expect({ chunking: chunking.name, paths: paths(got), error: got.error }).toEqual({
            chunking: chunking.name,
            paths: paths(reference),
            error: reference.error,
          });
        }
      }
    });
  }

  it("accepts leading spaces and NUL or space terminators in numeric fields, and base-256 sizes", async () => {
    const spaced = patched("spaced", 3, 124, "  3 \0\0\0\0\0\0\0\0");
    const base256 = patched("b256", 0, 124, `\x80${"\0".repeat(10)}\x05`);
    const archive = tar(spaced, Buffer.from("abc".padEnd(512, "\0")), base256, Buffer.from("12345".padEnd(512, "\0")));
    const got = await read(fixed(100).split(archive), "buffered-or-stream");
    expect(got.error).toBeUndefined();
    expect(got.entries.map((e) => [e.path, e.size, e.sha])).toEqual([
      ["spaced", 3, sha(Buffer.from("abc"))],
      ["b256", 5, sha(Buffer.from("12345"))],
    ]);
  });
});
