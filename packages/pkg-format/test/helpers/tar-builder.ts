/**
 * Test-only tar writer that can express anything, including hostile
 * archives: raw ustar/GNU headers, PAX `x` records, GNU `L`/`K` long names,
 * wrong sizes, bad checksums. Independent from src/tar-write.ts on purpose.
 */
import { gzipSync } from "node:zlib";

export interface RawHeader {
  name: string;
  /** Type flag character: "0" file, "5" dir, "2" symlink, "1" hardlink, "3" char, "4" block, "6" fifo, "x", "g", "L", "K", ... */
  type?: string;
  size?: number;
  mode?: number;
  linkname?: string;
  prefix?: string;
  /** "ustar" (POSIX, default) or "gnu" ("ustar  \0"). */
  magic?: "ustar" | "gnu";
  mtime?: number;
  /** Corrupt the header checksum. */
  badChecksum?: boolean;
}

function put(block: Buffer, offset: number, length: number, value: string | Buffer): void {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  bytes.subarray(0, length).copy(block, offset);
}
const octal = (n: number, len: number) => `${n.toString(8).padStart(len - 1, "0")}\0`;

export function header(h: RawHeader): Buffer {
  const b = Buffer.alloc(512, 0);
  put(b, 0, 100, h.name);
  put(b, 100, 8, octal(h.mode ?? 0o644, 8));
  put(b, 108, 8, octal(0, 8));
  put(b, 116, 8, octal(0, 8));
  put(b, 124, 12, octal(h.size ?? 0, 12));
  put(b, 136, 12, octal(h.mtime ?? 0, 12));
  b.fill(0x20, 148, 156);
  put(b, 156, 1, h.type ?? "0");
  put(b, 157, 100, h.linkname ?? "");
  if (h.magic === "gnu") put(b, 257, 8, "ustar  \0");
  else {
    put(b, 257, 6, "ustar\0");
    put(b, 263, 2, "00");
    put(b, 345, 155, h.prefix ?? "");
  }
  let sum = 0;
  for (const x of b) sum += x;
  if (h.badChecksum) sum += 7;
  put(b, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return b;
}

export const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512, 0);

/** A complete entry: header + data + padding. */
export function entry(h: RawHeader, data: string | Buffer = ""): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return Buffer.concat([header({ ...h, size: h.size ?? body.length }), body, pad(body.length)]);
}

export const file = (name: string, data: string | Buffer, mode = 0o644): Buffer => entry({ name, type: "0", mode }, data);
export const dir = (name: string, mode = 0o755): Buffer => entry({ name: name.endsWith("/") ? name : `${name}/`, type: "5", mode });

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** A PAX extended header (`x`, or `g` for global) applying `records` to the next entry. */
export function pax(records: Record<string, string>, type: "x" | "g" = "x"): Buffer {
  const data = Object.entries(records)
    .map(([k, v]) => paxRecord(k, v))
    .join("");
  return entry({ name: "PaxHeader/x", type }, data);
}

/** A GNU long-name (`L`) or long-link (`K`) header for the next entry. */
export function gnuLong(name: string, type: "L" | "K" = "L"): Buffer {
  return entry({ name: "././@LongLink", type, magic: "gnu" }, `${name}\0`);
}

export const EOF_BLOCKS = Buffer.alloc(1024, 0);

export function tar(...parts: Buffer[]): Buffer {
  return Buffer.concat([...parts, EOF_BLOCKS]);
}

export function tgz(...parts: Buffer[]): Buffer {
  return gzipSync(tar(...parts));
}
