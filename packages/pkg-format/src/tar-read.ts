/**
 * A small, strict streaming tar reader (ustar, pax `x`/`g`, GNU `L`/`K`).
 *
 * Written for hostile input: it reports every entry exactly as the archive
 * declares it (final path after PAX/GNU overrides, real type, declared size)
 * and lets the caller decide; it never touches the filesystem. Header
 * checksums are verified, numeric fields must be well-formed, and an archive
 * must end with the end-of-archive zero block (otherwise it is truncated).
 */

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
}

export type TarFormatReason = "truncated" | "corrupt-tar" | "meta-too-large";

export class TarFormatError extends Error {
  constructor(
    readonly reason: TarFormatReason,
    message: string,
    readonly entry?: string,
  ) {
    super(message);
    this.name = "TarFormatError";
  }
}

const BLOCK = 512;
const utf8 = new TextDecoder("utf-8", { fatal: true });

class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  #bufs: Buffer[] = [];
  #len = 0;
  #done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(n: number): Promise<void> {
    while (this.#len < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done === true) this.#done = true;
      else if (r.value.length > 0) {
        this.#bufs.push(r.value);
        this.#len += r.value.length;
      }
    }
  }

  /** Up to n bytes (fewer only at the end of the stream). */
  async read(n: number): Promise<Buffer> {
    await this.#fill(n);
    const take = Math.min(n, this.#len);
    const all = this.#bufs.length === 1 ? (this.#bufs[0] as Buffer) : Buffer.concat(this.#bufs);
    const out = all.subarray(0, take);
    const rest = all.subarray(take);
    this.#bufs = rest.length > 0 ? [rest] : [];
    this.#len = rest.length;
    return out;
  }

  /** Exactly n bytes as a sequence of chunks; throws TarFormatError("truncated") if the stream ends early. */
  async *stream(n: number, entry: string): AsyncGenerator<Buffer> {
    let remaining = n;
    while (remaining > 0) {
      if (this.#len === 0) await this.#fill(1);
      if (this.#len === 0)
        throw new TarFormatError("truncated", `archive is truncated inside ${entry} (${remaining} bytes missing)`, entry);
      const head = this.#bufs[0] as Buffer;
      const take = Math.min(remaining, head.length);
      const out = head.subarray(0, take);
      if (take === head.length) this.#bufs.shift();
      else this.#bufs[0] = head.subarray(take);
      this.#len -= take;
      remaining -= take;
      yield out;
    }
  }

  async skip(n: number, entry: string): Promise<void> {
    for await (const _ of this.stream(n, entry)) {
      // discard
    }
  }

  /** Consume everything left (so that hashing of the outer stream completes). */
  async drain(): Promise<void> {
    this.#bufs = [];
    this.#len = 0;
    while (!this.#done) {
      const r = await this.#it.next();
      if (r.done === true) this.#done = true;
    }
  }
}

function cstring(buf: Buffer, start: number, len: number, what: string): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  try {
    return utf8.decode(nul < 0 ? field : field.subarray(0, nul));
  } catch {
    throw new TarFormatError("corrupt-tar", `tar header ${what} is not valid UTF-8`);
  }
}

function numeric(buf: Buffer, start: number, len: number, what: string): number {
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

function verifyChecksum(block: Buffer): void {
  const stored = numeric(block, 148, 8, "checksum");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed) {
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

export async function* readTar(source: AsyncIterable<Buffer>, options: TarReadOptions = {}): AsyncGenerator<TarEntry> {
  const maxMeta = options.maxMetaBytes ?? 1024 * 1024;
  const reader = new ByteReader(source);
  const global = new Map<string, string>();
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let sawHeader = false;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block.length === 0) {
      throw new TarFormatError("truncated", sawHeader ? "archive is truncated (no end-of-archive marker)" : "archive is empty");
    }
    if (block.length < BLOCK) throw new TarFormatError("truncated", "archive is truncated inside a header");
    if (block.every((b) => b === 0)) {
      if (pax !== undefined || longName !== undefined || longLink !== undefined) {
        throw new TarFormatError("corrupt-tar", "archive ends right after a PAX or GNU long-name header");
      }
      const second = await reader.read(BLOCK);
      if (second.length > 0 && !second.every((b) => b === 0)) {
        throw new TarFormatError("corrupt-tar", "zero block in the middle of the archive");
      }
      await reader.drain();
      return;
    }
    sawHeader = true;
    verifyChecksum(block);
    const typeflag = String.fromCharCode(block[156] as number);
    const magic = block.subarray(257, 263).toString("latin1");
    const name = cstring(block, 0, 100, "name");
    const prefix = magic === "ustar\0" ? cstring(block, 345, 155, "prefix") : "";
    const headerPath = prefix === "" ? name : `${prefix}/${name}`;
    const headerSize = numeric(block, 124, 12, "size");
    const mode = numeric(block, 100, 8, "mode");
    const headerLink = cstring(block, 157, 100, "linkname");
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

    const attrs = new Map([...global, ...(pax ?? [])]);
    const path = longName ?? attrs.get("path") ?? headerPath;
    const linkpath = longLink ?? attrs.get("linkpath") ?? (headerLink === "" ? undefined : headerLink);
    let size = headerSize;
    const paxSize = attrs.get("size");
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
    let consumed = false;
    const entryPath = path;
    const body = async function* (): AsyncGenerator<Buffer> {
      if (consumed) throw new Error(`body of ${entryPath} read twice`);
      consumed = true;
      yield* reader.stream(dataSize, entryPath);
      await reader.skip((BLOCK - (dataSize % BLOCK)) % BLOCK, entryPath);
    };
    yield { path, type, typeflag, size, mode, linkpath, body };
    if (!consumed) {
      consumed = true;
      await reader.skip(dataSize + ((BLOCK - (dataSize % BLOCK)) % BLOCK), entryPath);
    }
  }
}
