import { TarFormatError } from "./tar-format-error.js";

/**
 * The decompressed stream as a queue of chunks. Reads are synchronous while
 * the bytes are already buffered (the common case: one chunk holds many small
 * entries) and zero-copy when they sit in one chunk; the reader only awaits
 * the source when it runs dry.
 */
export class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  readonly #bufs: Buffer[] = [];
  /** Bytes of #bufs[0] already consumed. */
  #off = 0;
  #len = 0;
  #done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** Bytes available without waiting. */
  get buffered(): number {
    return this.#len;
  }

  /** Pull from the source until at least n bytes are buffered or it ended. */
  async fill(n: number): Promise<void> {
    while (this.#len < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done === true) this.#done = true;
      else if (r.value.length > 0) {
        this.#bufs.push(r.value);
        this.#len += r.value.length;
      }
    }
  }

  /** The next n buffered bytes (n <= buffered): a view when they sit in one chunk, else a copy. */
  take(n: number): Buffer {
    const head = this.#bufs[0];
    if (head === undefined || n === 0) return Buffer.alloc(0);
    const start = this.#off;
    if (head.length - start >= n) {
      this.#advance(head, n);
      return head.subarray(start, start + n);
    }
    const out = Buffer.allocUnsafe(n);
    let done = 0;
    while (done < n) {
      const h = this.#bufs[0] as Buffer;
      const t = Math.min(n - done, h.length - this.#off);
      h.copy(out, done, this.#off, this.#off + t);
      this.#advance(h, t);
      done += t;
    }
    return out;
  }

  /**
   * The chunk holding the next n buffered bytes (n <= buffered) contiguously,
   * starting at `offset`: the head chunk, or a copy when they straddle chunks.
   * Lets headers be parsed in place, without a view per block.
   */
  contiguous(n: number): Buffer {
    const head = this.#bufs[0] as Buffer;
    if (head.length - this.#off >= n) return head;
    const merged = this.take(n);
    // #off applies to the head chunk only: rebase the partly read chunk before putting the copy in front.
    if (this.#off > 0) this.#bufs[0] = (this.#bufs[0] as Buffer).subarray(this.#off);
    this.#bufs.unshift(merged);
    this.#off = 0;
    this.#len += n;
    return merged;
  }

  /** Where the next buffered byte sits in the head chunk (see contiguous()). */
  get offset(): number {
    return this.#off;
  }

  /** Drop the next n buffered bytes (n <= buffered). */
  discard(n: number): void {
    let left = n;
    while (left > 0) {
      const h = this.#bufs[0] as Buffer;
      const t = Math.min(left, h.length - this.#off);
      this.#advance(h, t);
      left -= t;
    }
  }

  #advance(head: Buffer, n: number): void {
    this.#off += n;
    this.#len -= n;
    if (this.#off === head.length) {
      this.#bufs.shift();
      this.#off = 0;
    }
  }

  /** Up to n bytes (fewer only at the end of the stream). */
  async read(n: number): Promise<Buffer> {
    if (this.#len < n) await this.fill(n);
    return this.take(Math.min(n, this.#len));
  }

  /** Exactly n bytes as a sequence of chunks; throws TarFormatError("truncated") if the stream ends early. */
  async *stream(n: number, entry: string): AsyncGenerator<Buffer> {
    let remaining = n;
    while (remaining > 0) {
      if (this.#len === 0) await this.fill(1);
      if (this.#len === 0)
        throw new TarFormatError("truncated", `archive is truncated inside ${entry} (${remaining} bytes missing)`, entry);
      const head = this.#bufs[0] as Buffer;
      const take = Math.min(remaining, head.length - this.#off);
      remaining -= take;
      yield this.take(take);
    }
  }

  /** Skip exactly n bytes; throws TarFormatError("truncated") if the stream ends early. */
  async skip(n: number, entry: string): Promise<void> {
    if (this.#len >= n) {
      this.discard(n);
      return;
    }
    let remaining = n;
    while (remaining > 0) {
      if (this.#len === 0) await this.fill(1);
      if (this.#len === 0)
        throw new TarFormatError("truncated", `archive is truncated inside ${entry} (${remaining} bytes missing)`, entry);
      const t = Math.min(remaining, this.#len);
      this.discard(t);
      remaining -= t;
    }
  }

  /** Consume everything left (so that hashing of the outer stream completes). */
  async drain(): Promise<void> {
    this.#bufs.length = 0;
    this.#off = 0;
    this.#len = 0;
    while (!this.#done) {
      const r = await this.#it.next();
      if (r.done === true) this.#done = true;
    }
  }
}
