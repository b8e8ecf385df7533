/**
 * The compressed side of reading a package: open the file or stream, check
 * the gzip magic bytes, hash and count the compressed bytes, gunzip, and
 * enforce the decompression ratio as bytes come out.
 */
import { hash as hashOnce } from "node:crypto";
import { createReadStream } from "node:fs";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { IntegrityError, isPk3sError, NotFoundError } from "../errors.js";
import { formatDigest, HashingStream, type Sha256Digest } from "./digest.js";
import type { ExtractLimits } from "./extract-limits.js";
import { asChunks, gunzipSmall, isGzipMagic, readSmallFile } from "./small-input.js";

export type PackageSource = string | Readable;

/**
 * Output chunk size for gunzip. The default (16 KiB) costs one stream and
 * thread-pool round trip per 16 KiB; 256 KiB chunks cut that overhead and let
 * most small tar entries arrive whole in one chunk.
 */
const GUNZIP_CHUNK = 256 * 1024;
const READ_CHUNK = 1024 * 1024;

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
    if (!isGzipMagic(head)) callback(notGzip());
    else callback(null, head);
  }

  override _flush(callback: TransformCallback): void {
    callback(this.#checked ? null : notGzip());
  }
}

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
    const small = readSmallInput(input, limits);
    if (small !== undefined) {
      try {
        return { result: await consume(asChunks(small.plain), small.stats), stats: small.stats };
      } catch (err) {
        throw mapReadError(err, input);
      }
    }
  }
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
      if (stats.uncompressedBytes > limits.ratioGraceBytes && stats.uncompressedBytes > hasher.bytes * limits.maxRatio) {
        throw new IntegrityError(
          "ratio-exceeded",
          `decompression ratio exceeds ${limits.maxRatio}:1 (${stats.uncompressedBytes} bytes from ${hasher.bytes}); refusing a likely gzip bomb`,
          { hint: "raise the maxRatio limit only for packages you trust" },
        );
      }
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

/**
 * A small package file read and inflated in one go (small-input.ts), or undefined: then it streams. The output
 * bound is what the ratio check allows for the whole file, which the streaming path sees in one read too, so
 * the fast path accepts exactly what streaming accepts (and leaves every refusal to it).
 */
function readSmallInput(path: string, limits: ExtractLimits): { plain: Buffer; stats: CompressedStats } | undefined {
  const data = readSmallFile(path);
  if (data === undefined) return undefined;
  const plain = gunzipSmall(data, Math.max(limits.ratioGraceBytes, data.length * limits.maxRatio));
  if (plain === undefined) return undefined;
  const digest = formatDigest(hashOnce("sha256", data, "hex"));
  return { plain, stats: { digest, compressedBytes: data.length, uncompressedBytes: plain.length } };
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
