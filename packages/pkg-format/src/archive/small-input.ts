/**
 * Small package files read in one synchronous call instead of a stream.
 *
 * A stream costs a dozen thread-pool round trips (open, stat, read, gunzip, close) whatever the size: for a
 * 500-byte package that is nearly all of the time, and a dry run with 51 dependencies reads 51 of them in pk3s
 * (digest, identity) and again in Core (validation). Files up to SMALL_FILE_BYTES are read whole here, and a
 * small gzip stream is inflated with a bounded output. Anything unusual (not a regular file, a size that
 * changed, not gzip, a corrupt or over-long stream) gives undefined: the caller then takes its streaming path,
 * which decides and words every error exactly as before. The fast path never accepts what the streaming path
 * would refuse: the digest is of the same bytes, and the output bound keeps it inside the decompression ratio.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** Largest file read whole (the streaming path reads 1 MiB chunks, so such a file is one chunk there too). */
export const SMALL_FILE_BYTES = 1024 * 1024;
/** Largest inflated output of the fast path (a 1 MiB package may expand to 200 MiB: that one streams). */
export const SMALL_OUTPUT_BYTES = 16 * 1024 * 1024;

/** The whole content of `path` when it is a regular file of at most SMALL_FILE_BYTES, else undefined. */
export function readSmallFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > SMALL_FILE_BYTES) return undefined;
    // One byte more than the size: a file that grew since fstat goes to the streaming path.
    const buf = Buffer.allocUnsafe(st.size + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got > st.size) return undefined;
    }
    return got === st.size ? buf.subarray(0, got) : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A buffer as the chunk stream the tar reader takes (no chunk for an empty buffer). */
export async function* asChunks(chunk: Buffer): AsyncGenerator<Buffer> {
  if (chunk.length > 0) yield chunk;
}

/** Whether `head` starts with gzip's magic bytes. */
export const isGzipMagic = (head: Uint8Array): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/** `data` inflated when it is a complete gzip stream of at most `maxOutput` bytes, else undefined. */
export function gunzipSmall(data: Buffer, maxOutput: number): Buffer | undefined {
  if (!isGzipMagic(data)) return undefined;
  try {
    return gunzipSync(data, { maxOutputLength: Math.max(1, Math.min(maxOutput, SMALL_OUTPUT_BYTES)) });
  } catch {
    return undefined;
  }
}
