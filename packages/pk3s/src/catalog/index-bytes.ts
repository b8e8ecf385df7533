/**
 * An index's bytes as the catalog readers take them (`indexed-entries.ts`): in slices, so that a local
 * index of any size is read without ever being held whole. A fetched index is already one buffer (it is
 * cached as served); a local file is read twice, each time in slices through one small reused buffer:
 * once for its digests (the parsed-entries cache is keyed by the SHA-256, a prehashed signature signs
 * the BLAKE2b-512), then by the line reader, which re-hashes what it reads and fails (exit 6) before
 * anything is admitted or cached when those bytes are not the ones first hashed (the file changed in
 * between). So the entries cached are always those of the bytes whose digest, and signature, were checked.
 *
 * The slice size matters for memory: text decoded from a slice above ~128 KiB is a "large object" that V8
 * keeps until a full GC; 100,000 entries read in 1 MiB slices grew the heap by tens of MB of such strings.
 */
import { createHash, type Hash } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { sha256Hex } from "@productive-k3s/pkg-format/digest";
import { IntegrityError } from "@productive-k3s/pkg-format/errors";
import type { SignedContent } from "@productive-k3s/pkg-format/minisign";

/** Bytes handed to the line reader at a time (and read from a file at a time). */
export const INDEX_SLICE = 1 << 16;

/** Where an index that lists companions has them: the line reader then needs only its envelope. */
const COMPANIONS_MARK = Buffer.from("\ncompanions:");

export interface IndexBytes {
  /** SHA-256 (hex) of the bytes. */
  readonly sha256: string;
  /** `\ncompanions:` occurs in the bytes: the index may list companions. */
  readonly mayListCompanions: boolean;
  /** What a signature over these bytes is checked against (`verifyContent`). */
  signed(): SignedContent;
  /**
   * One pass over the bytes, in slices of at most INDEX_SLICE bytes, valid only until the next one is asked
   * for (a slice may be a reused buffer). A pass over bytes other than those first hashed throws after its
   * last slice.
   */
  slices(): AsyncIterable<Buffer>;
  /** All the bytes at once (the whole-document parser, an envelope scan), checked against `sha256`. */
  whole(): Promise<Buffer>;
}

/** Bytes already in memory (a fetched or cached index). */
export function indexBuffer(bytes: Buffer): IndexBytes {
  return {
    sha256: sha256Hex(bytes),
    mayListCompanions: bytes.includes(COMPANIONS_MARK),
    signed: () => ({ bytes }),
    async *slices() {
      for (let at = 0; at < bytes.length; at += INDEX_SLICE) yield bytes.subarray(at, at + INDEX_SLICE);
    },
    whole: async () => bytes,
  };
}

/** An index given as bytes or as IndexBytes, as IndexBytes. */
export function asIndexBytes(bytes: Buffer | IndexBytes): IndexBytes {
  return Buffer.isBuffer(bytes) ? indexBuffer(bytes) : bytes;
}

/** Each slice of the file at `path`, read through one reused buffer. */
async function* fileSlices(path: string): AsyncGenerator<Buffer> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(INDEX_SLICE);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, INDEX_SLICE, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * A local index, hashed in one pass here (with its BLAKE2b-512 too when it is to be checked against a
 * signature, `signed`); errors opening or reading it (ENOENT, EISDIR...) propagate for the caller to word.
 */
export async function indexFile(path: string, options: { signed: boolean }): Promise<IndexBytes> {
  const sha = createHash("sha256");
  const blake: Hash | undefined = options.signed ? createHash("blake2b512") : undefined;
  let mayListCompanions = false;
  // The last bytes of the previous slice, for a mark split between two slices.
  let tail: Buffer = Buffer.alloc(0);
  for await (const slice of fileSlices(path)) {
    sha.update(slice);
    blake?.update(slice);
    if (!mayListCompanions) {
      const keep = COMPANIONS_MARK.length - 1;
      mayListCompanions = Buffer.concat([tail, slice.subarray(0, keep)]).includes(COMPANIONS_MARK) || slice.includes(COMPANIONS_MARK);
      tail = Buffer.concat([slice.subarray(Math.max(0, slice.length - keep))]); // a copy: the slice's buffer is reused
    }
  }
  const sha256 = sha.digest("hex");
  const blake2b512 = blake?.digest();
  const changed = (): IntegrityError =>
    new IntegrityError("index-changed", `catalog index ${path} changed while it was being read (its SHA-256 is no longer ${sha256})`, {
      where: path,
      hint: "run the command again once the index is no longer being written",
    });
  const whole = async (): Promise<Buffer> => {
    const bytes = await readFile(path);
    if (sha256Hex(bytes) !== sha256) throw changed();
    return bytes;
  };
  return {
    sha256,
    mayListCompanions,
    signed: () => {
      if (blake2b512 === undefined) throw new Error("unreachable: a signed index file is hashed with BLAKE2b-512");
      return { blake2b512, readBytes: whole };
    },
    async *slices() {
      const again = createHash("sha256");
      for await (const slice of fileSlices(path)) {
        again.update(slice);
        yield slice;
      }
      if (again.digest("hex") !== sha256) throw changed();
    },
    whole,
  };
}
