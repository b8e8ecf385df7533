/**
 * Deterministic tar headers for packing: ustar, uid/gid 0, no user or
 * group names, fixed mtime, normalised modes. A PAX header (with only
 * `path` and/or `size`, never times) is emitted when a path does not fit
 * ustar's name/prefix fields or a file is 8 GiB or more. ChunkBuilder
 * coalesces headers, data and padding into large fixed-size chunks, so the
 * compressor gets a few big writes instead of three small ones per entry.
 */

export const BLOCK = 512;
const MAX_OCTAL_11 = 0o77777777777;

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > length) throw new Error(`tar field overflow: ${value}`);
  bytes.copy(block, offset);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

function splitUstarPath(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== "") return { name, prefix };
  }
  return undefined;
}

export interface HeaderFields {
  path: string;
  type: "file" | "directory";
  size: number;
  mode: number;
  mtime: number;
}

function ustarHeader(name: string, prefix: string, typeflag: string, size: number, mode: number, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK, 0);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, mtime);
  block.fill(0x20, 148, 156);
  writeString(block, 156, 1, typeflag);
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  writeOctal(block, 329, 8, 0);
  writeOctal(block, 337, 8, 0);
  writeString(block, 345, 155, prefix);
  let sum = 0;
  for (const b of block) sum += b;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

export function padding(size: number): Buffer {
  return Buffer.alloc(paddingLength(size), 0);
}

/** Header block(s) for one entry (a PAX header first when needed). */
export function encodeHeader(fields: HeaderFields): Buffer {
  const fullPath = fields.type === "directory" ? `${fields.path}/` : fields.path;
  const split = splitUstarPath(fullPath);
  const bigSize = fields.size > MAX_OCTAL_11;
  const typeflag = fields.type === "directory" ? "5" : "0";
  if (split !== undefined && !bigSize) return ustarHeader(split.name, split.prefix, typeflag, fields.size, fields.mode, fields.mtime);
  let records = "";
  if (split === undefined) records += paxRecord("path", fullPath);
  if (bigSize) records += paxRecord("size", String(fields.size));
  const data = Buffer.from(records, "utf8");
  const shortName = Buffer.from(fullPath, "utf8")
    .subarray(0, 80)
    .toString("utf8")
    .replace(/\uFFFD+$/, "");
  const paxHeader = ustarHeader(`PaxHeader/${shortName}`, "", "x", data.length, 0o644, fields.mtime);
  const fallback = split ?? { name: shortName, prefix: "" };
  return Buffer.concat([
    paxHeader,
    data,
    padding(data.length),
    ustarHeader(fallback.name, fallback.prefix, typeflag, bigSize ? 0 : fields.size, fields.mode, fields.mtime),
  ]);
}

/** End-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2, 0);

/**
 * Coalesces a byte stream into chunks of `size` bytes (the last one may be
 * shorter). The bytes given are copied, so the caller may reuse its buffers;
 * each chunk yielded is a fresh buffer the builder no longer touches.
 */
export class ChunkBuilder {
  readonly #size: number;
  #chunk: Buffer;
  #used = 0;

  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`ChunkBuilder: bad chunk size ${size}`);
    this.#size = size;
    this.#chunk = Buffer.allocUnsafe(size);
  }

  /** Append bytes; yields every chunk that fills up. */
  *append(data: Uint8Array): Generator<Buffer> {
    let offset = 0;
    while (offset < data.length) {
      const n = Math.min(data.length - offset, this.#size - this.#used);
      this.#chunk.set(data.subarray(offset, offset + n), this.#used);
      this.#used += n;
      offset += n;
      if (this.#used === this.#size) yield this.#take();
    }
  }

  /** Append `count` zero bytes (tar padding); yields every chunk that fills up. */
  *zeros(count: number): Generator<Buffer> {
    let left = count;
    while (left > 0) {
      const n = Math.min(left, this.#size - this.#used);
      this.#chunk.fill(0, this.#used, this.#used + n);
      this.#used += n;
      left -= n;
      if (this.#used === this.#size) yield this.#take();
    }
  }

  /** The partly filled last chunk, if any. */
  *end(): Generator<Buffer> {
    if (this.#used > 0) yield this.#take();
  }

  #take(): Buffer {
    const full = this.#chunk.subarray(0, this.#used);
    this.#chunk = Buffer.allocUnsafe(this.#size);
    this.#used = 0;
    return full;
  }
}

/** Zero bytes after `size` bytes of data, up to the next 512-byte block. */
export function paddingLength(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
