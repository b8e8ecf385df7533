/**
 * SHA-256 helpers: whole files, and a pass-through stream that hashes (and
 * counts) whatever flows through it, for downloads and packing.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { IntegrityError } from "../errors.js";
import { readSmallFile } from "./small-input.js";

/** Read size of a streamed file hash. */
const STREAM_CHUNK = 1024 * 1024;

export type Sha256Digest = `sha256:${string}`;

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function formatDigest(hex: string): Sha256Digest {
  return `sha256:${hex}`;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * A file's digest under `algorithm` (any node:crypto hash) and its size: a small file read in one call
 * (small-input.ts: thousands of packages would each cost a stream and its 1 MiB buffer), a larger one streamed.
 */
export async function hashFile(path: string, algorithm: string): Promise<{ digest: Buffer; size: number }> {
  const small = readSmallFile(path);
  if (small !== undefined) return { digest: createHash(algorithm).update(small).digest(), size: small.length };
  const hash = createHash(algorithm);
  let size = 0;
  await pipeline(createReadStream(path, { highWaterMark: STREAM_CHUNK }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.length;
    }
  });
  return { digest: hash.digest(), size };
}

/** The sha256 hex and the size of a file (`hashFile`). */
export async function sha256FileHex(path: string): Promise<{ hex: string; size: number }> {
  const { digest, size } = await hashFile(path, "sha256");
  return { hex: digest.toString("hex"), size };
}

/** `sha256:<hex>` of a file, streamed. */
export async function sha256File(path: string): Promise<Sha256Digest> {
  return formatDigest((await sha256FileHex(path)).hex);
}

/**
 * The hex of a `sha256:<hex>` digest from a catalog or a lock file (any case,
 * surrounding spaces ignored); anything else is an integrity error naming `label`.
 */
export function sha256HexOf(digest: string, label: string): string {
  const normalised = digest.trim().toLowerCase();
  if (!DIGEST_PATTERN.test(normalised)) {
    throw new IntegrityError("bad-digest", `${label}: unsupported digest "${digest}"`, {
      hint: 'digests must look like "sha256:<64 hex digits>"',
    });
  }
  return normalised.slice("sha256:".length);
}

/** A pass-through stream that hashes and counts the bytes going through it. */
export class HashingStream extends Transform {
  readonly #hash: Hash = createHash("sha256");
  #bytes = 0;
  #digest: Sha256Digest | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.#digest = formatDigest(this.#hash.digest("hex"));
    callback();
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The digest, available once the stream has ended (after 'finish'/'end'). */
  digest(): Sha256Digest {
    if (this.#digest === undefined) throw new Error("HashingStream.digest() called before the stream ended");
    return this.#digest;
  }
}

export function createHashingStream(): HashingStream {
  return new HashingStream();
}

/** Compare two digests in constant time-insensitive form (case-normalised). */
export function digestsEqual(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
