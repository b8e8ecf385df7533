/**
 * The compressed side of reading a package: open the file or stream, check
 * the gzip magic bytes, hash and count the compressed bytes, gunzip, and
 * enforce the decompression ratio as bytes come out.
 *
 * A small package file (up to 1 MiB, what nearly every add-on is) is read,
 * hashed and gunzipped in one call each, synchronously: the stream pipeline's
 * fixed costs (a 1 MiB read buffer, five streams, a thread-pool round trip per
 * stage) were most of the time of indexing thousands of small packages, and
 * their buffers most of its garbage. For a few KB the thread pool saves
 * nothing: an asynchronous gunzip cost the main thread as much as a
 * synchronous one (zlib's stream and callback machinery), and asynchronous
 * reads several times the reads themselves. The checks are the same:
 * magic bytes, digest and size of exactly the bytes read, the ratio limit on
 * the whole output (which is what the streamed check sees for a file read in
 * one 1 MiB chunk), and the consumer gets the tar bytes as one chunk. Output
 * over 8 MiB (a bomb, or a very compressible package) is left to the streamed
 * path, which enforces the limits as bytes come out.
 */
import { hash as hashOnce } from "node:crypto";
import { closeSync, createReadStream, fstatSync, openSync, readFileSync } from "node:fs";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, gunzipSync } from "node:zlib";
import { IntegrityError, isPk3sError, NotFoundError } from "../errors.js";
import { formatDigest, HashingStream, type Sha256Digest } from "./digest.js";
import type { ExtractLimits } from "./extract-limits.js";

export type PackageSource = string | Readable;

/**
 * Output chunk size for gunzip. The default (16 KiB) costs one stream and
 * thread-pool round trip per 16 KiB; 256 KiB chunks cut that overhead and let
 * most small tar entries arrive whole in one chunk.
 */
const GUNZIP_CHUNK = 256 * 1024;
const READ_CHUNK = 1024 * 1024;
/** Package files up to this size are read whole (one read, one hash, one gunzip); the read chunk, so the ratio check sees the same bytes. */
const WHOLE_FILE_MAX = READ_CHUNK;
/** Most tar bytes a whole-file read decompresses in memory; more goes through the streamed path. */
const WHOLE_OUTPUT_MAX = 8 * 1024 * 1024;

class GzipMagicCheck extends Transform {
  #checked = false;
  #pending: Buffer | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.#checked) {
      callback(null, chunk);
      return;
    }
    const head = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    if (head.length < 2) {
      this.#pending = head;
      callback();
      return;
    }
    this.#checked = true;
    this.#pending = undefined;
    if (!isGzip(head)) callback(notGzip());
    else callback(null, head);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.#checked ? null : notGzip());
  }
}

const isGzip = (head: Buffer): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

function notGzip(): IntegrityError {
  return new IntegrityError("not-gzip", "not a gzip-compressed archive (bad magic bytes); a package is a .tgz file", {
    hint: "packages are produced by `... dev ... package`; check that the file is a .tgz",
  });
}

export interface CompressedStats {
  /** sha256 of the compressed bytes (the package digest); set once the input is fully read. */
  digest: Sha256Digest | undefined;
  /** Compressed bytes read (the package size once complete). */
  compressedBytes: number;
  uncompressedBytes: number;
}

/**
 * Read `input`, handing the decompressed bytes to `consume`. Resolves after
 * the input was read to its end. All gzip-level failures become IntegrityError.
 */
export async function readGzipped<T>(
  input: PackageSource,
  limits: ExtractLimits,
  consume: (chunks: AsyncIterable<Buffer>, stats: CompressedStats) => Promise<T>,
): Promise<{ result: T; stats: CompressedStats }> {
  if (typeof input === "string") {
    const whole = await readWholeFile(input, limits, consume);
    if (whole !== undefined) return whole;
  }
  return readStreamed(input, limits, consume);
}

function ratioExceeded(limits: ExtractLimits, uncompressed: number, compressed: number): IntegrityError {
  return new IntegrityError(
    "ratio-exceeded",
    `decompression ratio exceeds ${limits.maxRatio}:1 (${uncompressed} bytes from ${compressed}); refusing a likely gzip bomb`,
    { hint: "raise the maxRatio limit only for packages you trust" },
  );
}

const overRatio = (limits: ExtractLimits, uncompressed: number, compressed: number): boolean =>
  uncompressed > limits.ratioGraceBytes && uncompressed > compressed * limits.maxRatio;

/** A small file read, hashed and gunzipped whole; undefined when it is too big for that (read it streamed). */
async function readWholeFile<T>(
  path: string,
  limits: ExtractLimits,
  consume: (chunks: AsyncIterable<Buffer>, stats: CompressedStats) => Promise<T>,
): Promise<{ result: T; stats: CompressedStats } | undefined> {
  // Measured on 2,000 packages of ~7 KB: ~0.1 ms per file read asynchronously (open, stat, read, close), ~0.03 ms synchronously.
  let bytes: Buffer;
  try {
    const fd = openSync(path, "r");
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size > WHOLE_FILE_MAX) return undefined;
      bytes = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw mapReadError(err, path);
  }
  // A file that grew past the limit between stat and read: the streamed path reads it again.
  if (bytes.length > WHOLE_FILE_MAX) return undefined;
  if (!isGzip(bytes)) throw notGzip();
  let tar: Buffer;
  try {
    tar = gunzipSync(bytes, { maxOutputLength: WHOLE_OUTPUT_MAX });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") return undefined;
    throw mapReadError(err, path);
  }
  if (overRatio(limits, tar.length, bytes.length)) throw ratioExceeded(limits, tar.length, bytes.length);
  const stats: CompressedStats = {
    digest: formatDigest(hashOnce("sha256", bytes, "hex")),
    compressedBytes: bytes.length,
    uncompressedBytes: tar.length,
  };
  const chunks = async function* (): AsyncGenerator<Buffer> {
    if (tar.length > 0) yield tar;
  };
  return { result: await consume(chunks(), stats), stats };
}

async function readStreamed<T>(
  input: PackageSource,
  limits: ExtractLimits,
  consume: (chunks: AsyncIterable<Buffer>, stats: CompressedStats) => Promise<T>,
): Promise<{ result: T; stats: CompressedStats }> {
  // 1 MiB reads: a 64 KiB read per thread-pool round trip left the scanner idle a tenth of the time.
  const source = typeof input === "string" ? createReadStream(input, { highWaterMark: READ_CHUNK }) : input;
  const hasher = new HashingStream();
  const stats: CompressedStats = { digest: undefined, compressedBytes: 0, uncompressedBytes: 0 };
  let result: T | undefined;
  // The first error raised by our own checks; pipeline may report an AbortError from tearing down instead.
  let ownError: unknown;
  const ratioChecked = async function* (decompressed: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of decompressed) {
      stats.uncompressedBytes += chunk.length;
      stats.compressedBytes = hasher.bytes;
      if (overRatio(limits, stats.uncompressedBytes, hasher.bytes)) throw ratioExceeded(limits, stats.uncompressedBytes, hasher.bytes);
      yield chunk;
    }
  };
  // pipeline() can reject (e.g. on a gzip error) while the consumer is still writing a file:
  // callers clean up after we return, so we wait until the consumer has settled too.
  let consumer: Promise<unknown> = Promise.resolve();
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  try {
    await pipeline(source, hasher, new GzipMagicCheck(), gunzip, (decompressed: AsyncIterable<Buffer>) => {
      const run = (async () => {
        try {
          result = await consume(ratioChecked(decompressed), stats);
        } catch (err) {
          ownError ??= err;
          throw err;
        }
      })();
      consumer = run.catch(() => undefined);
      return run;
    });
  } catch (err) {
    await consumer;
    throw mapReadError(isPk3sError(ownError) ? ownError : err, input);
  }
  stats.compressedBytes = hasher.bytes;
  stats.digest = hasher.digest();
  return { result: result as T, stats };
}

function mapReadError(err: unknown, input: PackageSource): unknown {
  if (isPk3sError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  if (typeof input === "string" && (e.code === "ENOENT" || e.code === "EISDIR")) {
    return new NotFoundError(`package file not found: ${input}`, { where: input, cause: err, hint: "check the path to the .tgz" });
  }
  if (e.code === "Z_BUF_ERROR" || /unexpected end of file/i.test(e.message ?? "")) {
    return new IntegrityError("truncated", "the gzip stream is truncated (unexpected end of file)", {
      cause: err,
      hint: "download the package again",
    });
  }
  if (typeof e.code === "string" && e.code.startsWith("Z_")) {
    return new IntegrityError("corrupt-gzip", `the gzip stream is corrupt: ${e.message}`, { cause: err });
  }
  return err;
}
