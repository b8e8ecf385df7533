/**
 * A small, strict streaming tar reader (ustar, pax `x`/`g`, GNU `L`/`K`).
 *
 * Written for hostile input: it reports every entry exactly as the archive
 * declares it (final path after PAX/GNU overrides, real type, declared size)
 * and lets the caller decide; it never touches the filesystem. Header
 * checksums are verified, numeric fields must be well-formed, and an archive
 * must end with the end-of-archive zero block (otherwise it is truncated).
 */

import { ByteReader } from "./byte-reader.js";
import { TarFormatError } from "./tar-format-error.js";

export { TarFormatError, type TarFormatReason } from "./tar-format-error.js";

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "char-device" | "block-device" | "fifo" | "other";

export interface TarEntry {
  /** Final path (PAX `path` / GNU long name applied), exactly as stored. */
  path: string;
  type: TarEntryType;
  /** The raw type flag, e.g. "0", "5", "S". */
  typeflag: string;
  size: number;
  mode: number;
  linkpath: string | undefined;
  /** The entry's data; must be consumed (or left alone: it is skipped) before the next entry is read. */
  body(): AsyncGenerator<Buffer>;
  /**
   * The entry's whole data when it is already buffered (then it counts as
   * consumed, like body()), else undefined: read body() instead. A view into
   * the reader's chunk: copy what you keep.
   */
  bufferedBody(): Buffer | undefined;
}

const BLOCK = 512;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether the block at `at` (or what there is of it, at the end of the stream) is all zeros. */
function isZeroBlock(buf: Buffer, at = 0): boolean {
  const end = Math.min(buf.length, at + BLOCK);
  for (let i = at; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

function cstring(buf: Buffer, start: number, len: number, what: string): string {
  // Fast path: plain ASCII (every byte < 0x80) decodes the same as latin1.
  const stop = start + len;
  let end = start;
  let ascii = true;
  for (; end < stop; end++) {
    const b = buf[end] as number;
    if (b === 0) break;
    if (b >= 0x80) ascii = false;
  }
  if (end === start) return "";
  if (ascii) return buf.toString("latin1", start, end);
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    throw new TarFormatError("corrupt-tar", `tar header ${what} is not valid UTF-8`);
  }
}

/**
 * An octal field in its usual form (optional leading spaces, octal digits,
 * then only NULs and spaces), or undefined for anything else, which
 * `numericStrict` then parses or rejects.
 */
function plainOctal(buf: Buffer, start: number, len: number): number | undefined {
  const stop = start + len;
  let i = start;
  while (i < stop && buf[i] === 0x20) i++;
  let v = 0;
  for (; i < stop; i++) {
    const b = buf[i] as number;
    if (b < 0x30 || b > 0x37) break;
    v = v * 8 + (b - 0x30);
  }
  for (; i < stop; i++) {
    const b = buf[i];
    if (b !== 0 && b !== 0x20) return undefined;
  }
  return v;
}

function numeric(buf: Buffer, start: number, len: number, what: string): number {
  return plainOctal(buf, start, len) ?? numericStrict(buf, start, len, what);
}

function numericStrict(buf: Buffer, start: number, len: number, what: string): number {
  const field = buf.subarray(start, start + len);
  const first = field[0] ?? 0;
  if (first & 0x80) {
    // GNU base-256, positive only.
    if (first !== 0x80) throw new TarFormatError("corrupt-tar", `tar header ${what} is a negative or oversized base-256 number`);
    let v = 0;
    for (let i = 1; i < field.length; i++) {
      v = v * 256 + (field[i] as number);
      if (!Number.isSafeInteger(v)) throw new TarFormatError("corrupt-tar", `tar header ${what} is too large`);
    }
    return v;
  }
  const text = field
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^ +/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError("corrupt-tar", `tar header ${what} is not an octal number: ${JSON.stringify(text)}`);
  return Number.parseInt(text, 8);
}

/** Verify the checksum of the header block at `at` in `block`. */
function verifyChecksum(block: Buffer, at: number): void {
  const stored = numeric(block, at + 148, 8, "checksum");
  // The checksum field (148..155) counts as eight spaces; bytes over 127 count as negative in the signed variant,
  // which is only worked out when the unsigned sum (what every writer today stores) does not match.
  let unsigned = 8 * 0x20;
  for (let i = at; i < at + 148; i++) unsigned += block[i] as number;
  for (let i = at + 156; i < at + BLOCK; i++) unsigned += block[i] as number;
  if (stored === unsigned) return;
  let high = 0;
  for (let i = at; i < at + 148; i++) high += (block[i] as number) >>> 7;
  for (let i = at + 156; i < at + BLOCK; i++) high += (block[i] as number) >>> 7;
  if (stored !== unsigned - 256 * high) {
    throw new TarFormatError("corrupt-tar", "tar header checksum mismatch (corrupt or not a tar archive)");
  }
}

function parsePax(data: Buffer, entry: string): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) throw new TarFormatError("corrupt-tar", "malformed PAX record", entry);
    const lenText = data.subarray(pos, space).toString("latin1");
    const len = /^[0-9]+$/.test(lenText) ? Number.parseInt(lenText, 10) : Number.NaN;
    if (!Number.isSafeInteger(len) || len <= space - pos + 1 || pos + len > data.length || data[pos + len - 1] !== 0x0a) {
      throw new TarFormatError("corrupt-tar", "malformed PAX record", entry);
    }
    let record: string;
    try {
      record = utf8.decode(data.subarray(space + 1, pos + len - 1));
    } catch {
      throw new TarFormatError("corrupt-tar", "PAX record is not valid UTF-8", entry);
    }
    const eq = record.indexOf("=");
    if (eq <= 0) throw new TarFormatError("corrupt-tar", "malformed PAX record", entry);
    out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "5": "directory",
  "2": "symlink",
  "1": "hardlink",
  "3": "char-device",
  "4": "block-device",
  "6": "fifo",
};

export interface TarReadOptions {
  /** Largest PAX / GNU long-name record accepted (bytes). */
  maxMetaBytes?: number;
}

/** One entry as readTar hands it out; its data is read through the shared reader, once. */
class Entry implements TarEntry {
  readonly path: string;
  readonly type: TarEntryType;
  readonly typeflag: string;
  readonly size: number;
  readonly mode: number;
  readonly linkpath: string | undefined;
  readonly #reader: ByteReader;
  readonly #dataSize: number;
  /** 0: untouched, 1: streamed by body() (which also skips the padding) or finished, 2: taken whole by bufferedBody(). */
  #consumed: 0 | 1 | 2 = 0;

  constructor(reader: ByteReader, h: Omit<TarEntry, "body" | "bufferedBody">, dataSize: number) {
    this.path = h.path;
    this.type = h.type;
    this.typeflag = h.typeflag;
    this.size = h.size;
    this.mode = h.mode;
    this.linkpath = h.linkpath;
    this.#reader = reader;
    this.#dataSize = dataSize;
  }

  get #padding(): number {
    return (BLOCK - (this.#dataSize % BLOCK)) % BLOCK;
  }

  #claim(how: 1 | 2): void {
    if (this.#consumed !== 0) throw new Error(`body of ${this.path} read twice`);
    this.#consumed = how;
  }

  async *body(): AsyncGenerator<Buffer> {
    this.#claim(1);
    yield* this.#reader.stream(this.#dataSize, this.path);
    await this.#reader.skip(this.#padding, this.path);
  }

  bufferedBody(): Buffer | undefined {
    if (this.#consumed === 0 && this.#reader.buffered < this.#dataSize) return undefined;
    this.#claim(2);
    return this.#reader.take(this.#dataSize);
  }

  /** Bytes of this entry the consumer left in the stream (data and padding); the body cannot be read afterwards. */
  leftover(): number {
    const left = this.#consumed === 0 ? this.#dataSize + this.#padding : this.#consumed === 2 ? this.#padding : 0;
    this.#consumed = 1;
    return left;
  }
}

const USTAR_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72, 0]; // "ustar\0"

function isUstar(block: Buffer, at: number): boolean {
  for (let i = 0; i < USTAR_MAGIC.length; i++) if (block[at + 257 + i] !== USTAR_MAGIC[i]) return false;
  return true;
}

export async function* readTar(source: AsyncIterable<Buffer>, options: TarReadOptions = {}): AsyncGenerator<TarEntry> {
  const maxMeta = options.maxMetaBytes ?? 1024 * 1024;
  const reader = new ByteReader(source);
  const global = new Map<string, string>();
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let sawHeader = false;
  for (;;) {
    if (reader.buffered < BLOCK) await reader.fill(BLOCK);
    if (reader.buffered === 0) {
      throw new TarFormatError("truncated", sawHeader ? "archive is truncated (no end-of-archive marker)" : "archive is empty");
    }
    if (reader.buffered < BLOCK) throw new TarFormatError("truncated", "archive is truncated inside a header");
    // The header is parsed where it sits (`block` from `at`), then dropped from the reader.
    const block = reader.contiguous(BLOCK);
    const at = reader.offset;
    if (isZeroBlock(block, at)) {
      reader.discard(BLOCK);
      if (pax !== undefined || longName !== undefined || longLink !== undefined) {
        throw new TarFormatError("corrupt-tar", "archive ends right after a PAX or GNU long-name header");
      }
      const second = await reader.read(BLOCK);
      if (second.length > 0 && !isZeroBlock(second)) {
        throw new TarFormatError("corrupt-tar", "zero block in the middle of the archive");
      }
      await reader.drain();
      return;
    }
    sawHeader = true;
    verifyChecksum(block, at);
    const typeflag = String.fromCharCode(block[at + 156] as number);
    const name = cstring(block, at, 100, "name");
    const prefix = isUstar(block, at) ? cstring(block, at + 345, 155, "prefix") : "";
    const headerPath = prefix === "" ? name : `${prefix}/${name}`;
    const headerSize = numeric(block, at + 124, 12, "size");
    const mode = numeric(block, at + 100, 8, "mode");
    const headerLink = cstring(block, at + 157, 100, "linkname");
    reader.discard(BLOCK);
    const label = longName ?? pax?.get("path") ?? headerPath;

    if (typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K") {
      if (headerSize > maxMeta) {
        throw new TarFormatError("meta-too-large", `PAX/GNU metadata record of ${headerSize} bytes exceeds ${maxMeta}`, headerPath);
      }
      const chunks: Buffer[] = [];
      for await (const c of reader.stream(headerSize, headerPath)) chunks.push(Buffer.from(c));
      await reader.skip((BLOCK - (headerSize % BLOCK)) % BLOCK, headerPath);
      const data = Buffer.concat(chunks);
      if (typeflag === "x") pax = new Map([...(pax ?? []), ...parsePax(data, headerPath)]);
      else if (typeflag === "g") for (const [k, v] of parsePax(data, headerPath)) global.set(k, v);
      else {
        const nul = data.indexOf(0);
        let text: string;
        try {
          text = utf8.decode(nul < 0 ? data : data.subarray(0, nul));
        } catch {
          throw new TarFormatError("corrupt-tar", "GNU long name is not valid UTF-8", headerPath);
        }
        if (typeflag === "L") longName = text;
        else longLink = text;
      }
      continue;
    }

    const attrs = global.size === 0 ? pax : new Map([...global, ...(pax ?? [])]);
    const path = longName ?? attrs?.get("path") ?? headerPath;
    const linkpath = longLink ?? attrs?.get("linkpath") ?? (headerLink === "" ? undefined : headerLink);
    let size = headerSize;
    const paxSize = attrs?.get("size");
    if (paxSize !== undefined) {
      if (!/^[0-9]+$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) {
        throw new TarFormatError("corrupt-tar", `PAX size ${JSON.stringify(paxSize)} is not a number`, label);
      }
      size = Number(paxSize);
    }
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    const type = TYPES[typeflag] ?? "other";
    // Links and devices carry no data, whatever the size field says.
    const dataSize = type === "file" || type === "directory" || type === "other" ? size : 0;
    const entry = new Entry(reader, { path, type, typeflag, size, mode, linkpath }, dataSize);
    yield entry;
    const skip = entry.leftover();
    if (reader.buffered >= skip) reader.discard(skip);
    else await reader.skip(skip, path);
  }
}
