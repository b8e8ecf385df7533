/**
 * minisign public keys: the file minisign writes (`untrusted comment: minisign
 * public key <KEY ID>` then one base64 line) or that base64 line alone, which
 * holds `Ed` + an 8-byte key id + the 32-byte Ed25519 public key. The key id is
 * shown as minisign shows it: the 8 bytes read as a little-endian integer, in
 * upper-case hex.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { NotFoundError, UsageError } from "../errors.js";
import { decodeBase64Field, textLines } from "./base64-field.js";

export const SIGNATURE_ALGORITHM = "Ed";
export const KEY_ID_BYTES = 8;
export const PUBLIC_KEY_BYTES = 32;
const PUBLIC_KEY_STRUCT_BYTES = 2 + KEY_ID_BYTES + PUBLIC_KEY_BYTES;
const UNTRUSTED_PREFIX = "untrusted comment: ";

export interface MinisignPublicKey {
  /** The 8 key id bytes as stored. */
  keyId: Buffer;
  /** The key id as minisign prints it (16 upper-case hex digits). */
  id: string;
  /** The 32-byte Ed25519 public key. */
  publicKey: Buffer;
  /** The base64 line (`RW...`): what `--trust-key` and configuration hold. */
  base64: string;
}

/** The key id as minisign prints it: little-endian u64 in upper-case hex. */
export function keyIdText(keyId: Buffer): string {
  return Buffer.from(keyId).reverse().toString("hex").toUpperCase();
}

export function publicKeyFromParts(keyId: Buffer, publicKey: Buffer): MinisignPublicKey {
  const struct = Buffer.concat([Buffer.from(SIGNATURE_ALGORITHM, "latin1"), keyId, publicKey]);
  return { keyId: Buffer.from(keyId), id: keyIdText(keyId), publicKey: Buffer.from(publicKey), base64: struct.toString("base64") };
}

function notAKey(where: string, why: string): UsageError {
  return new UsageError(`${where}: not a minisign public key (${why})`, {
    where,
    hint: "pass a public key file written by `pk3s key generate` or `minisign -G` (e.g. key.pub), or its second line (RW...)",
  });
}

function parseLine(line: string, where: string): MinisignPublicKey {
  const struct = decodeBase64Field(line.trim(), PUBLIC_KEY_STRUCT_BYTES);
  if (struct === undefined) throw notAKey(where, `expected the base64 of ${PUBLIC_KEY_STRUCT_BYTES} bytes`);
  if (struct.toString("latin1", 0, 2) !== SIGNATURE_ALGORITHM) throw notAKey(where, "unsupported signature algorithm");
  return publicKeyFromParts(struct.subarray(2, 2 + KEY_ID_BYTES), struct.subarray(2 + KEY_ID_BYTES));
}

/** A public key from a key file's text, or from its base64 line alone. */
export function parsePublicKey(text: string, where: string): MinisignPublicKey {
  const lines = textLines(text);
  if (lines.length === 1) return parseLine(lines[0]!, where);
  if (lines.length !== 2 || !lines[0]!.startsWith(UNTRUSTED_PREFIX)) {
    throw notAKey(where, `expected "${UNTRUSTED_PREFIX}..." and one base64 line`);
  }
  return parseLine(lines[1]!, where);
}

/** The public key file as minisign writes it. */
export function formatPublicKeyFile(key: MinisignPublicKey): string {
  return `${UNTRUSTED_PREFIX}minisign public key ${key.id}\n${key.base64}\n`;
}

/** Looks like a key's base64 line rather than a file name. */
export function isPublicKeyLine(value: string): boolean {
  return /^RW[A-Za-z0-9+/]{54}$/.test(value.trim());
}

/**
 * `--trust-key`, `--key`, `--verify-key`: a public key file, or the key's base64 line. `label` names the
 * option in errors.
 */
export async function readPublicKey(value: string, label: string): Promise<MinisignPublicKey> {
  if (isPublicKeyLine(value)) return parsePublicKey(value, label);
  let text: string;
  try {
    text = await readFile(value, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") {
      throw new NotFoundError(`${label}: public key file not found: ${value}`, {
        where: value,
        hint: "pass a public key file (key.pub) or the key's base64 line (RW...)",
      });
    }
    throw err;
  }
  return parsePublicKey(text, value);
}

const keyObjects = new WeakMap<MinisignPublicKey, KeyObject>();

/** The key as a Node KeyObject (made once per key). */
export function publicKeyObject(key: MinisignPublicKey): KeyObject {
  let object = keyObjects.get(key);
  if (object === undefined) {
    object = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: key.publicKey.toString("base64url") }, format: "jwk" });
    keyObjects.set(key, object);
  }
  return object;
}
