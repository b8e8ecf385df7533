/**
 * minisign signatures (`.minisig`), exactly as minisign reads and writes them:
 *
 *   untrusted comment: <anything>
 *   <base64: algorithm (2) + key id (8) + Ed25519 signature (64)>
 *   trusted comment: <text>
 *   <base64: Ed25519 signature of (signature + trusted comment)>
 *
 * `ED` (minisign's default) signs the BLAKE2b-512 of the file, so any size
 * streams; `Ed` (legacy, `minisign -l`) signs the file itself. Both verify.
 * The trusted comment is covered by the second ("global") signature.
 */
import { createHash, sign as edSign, verify as edVerify } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { hashFile } from "../archive/digest.js";
import { IntegrityError, UsageError } from "../errors.js";
import { decodeBase64Field, textLines } from "./base64-field.js";
import { KEY_ID_BYTES, keyIdText, type MinisignPublicKey, publicKeyObject } from "./public-key.js";
import { type MinisignSecretKey, signingKeyObject } from "./secret-key.js";

export type SignatureAlgorithm = "Ed" | "ED";

const SIGNATURE_BYTES = 64;
const UNTRUSTED_PREFIX = "untrusted comment: ";
const TRUSTED_PREFIX = "trusted comment: ";
/** minisign refuses to sign more than this without prehashing; so do we, and a legacy signature is not verified beyond it. */
const LEGACY_MAX_BYTES = 1024 ** 3;
/** A `.minisig` is a few hundred bytes; minisign allows an 8 KiB trusted comment. */
export const MAX_SIGNATURE_FILE_BYTES = 16 * 1024;

export interface MinisignSignature {
  algorithm: SignatureAlgorithm;
  keyId: Buffer;
  signature: Buffer;
  untrustedComment: string;
  trustedComment: string;
  globalSignature: Buffer;
}

/** What a successful verification tells: which trusted key signed, and the signed comment. */
export interface VerifiedSignature {
  key: MinisignPublicKey;
  algorithm: SignatureAlgorithm;
  trustedComment: string;
}

function malformed(where: string, why: string): IntegrityError {
  return new IntegrityError("signature-malformed", `${where}: not a minisign signature (${why})`, {
    where,
    hint: "a .minisig file has four lines: untrusted comment, signature, trusted comment, global signature",
  });
}

export function parseSignature(text: string, where: string): MinisignSignature {
  if (text.length > MAX_SIGNATURE_FILE_BYTES) throw malformed(where, `larger than ${MAX_SIGNATURE_FILE_BYTES} bytes`);
  const lines = textLines(text);
  if (lines.length !== 4) throw malformed(where, `${lines.length} lines instead of 4`);
  const [untrusted, sigLine, trusted, globalLine] = lines as [string, string, string, string];
  if (!untrusted.startsWith(UNTRUSTED_PREFIX)) throw malformed(where, `line 1 does not start with "${UNTRUSTED_PREFIX}"`);
  if (!trusted.startsWith(TRUSTED_PREFIX)) throw malformed(where, `line 3 does not start with "${TRUSTED_PREFIX}"`);
  const struct = decodeBase64Field(sigLine.trim(), 2 + KEY_ID_BYTES + SIGNATURE_BYTES);
  if (struct === undefined) throw malformed(where, "line 2 is not the base64 of a 74-byte signature");
  const algorithm = struct.toString("latin1", 0, 2);
  if (algorithm !== "Ed" && algorithm !== "ED") throw malformed(where, "unsupported signature algorithm");
  const globalSignature = decodeBase64Field(globalLine.trim(), SIGNATURE_BYTES);
  if (globalSignature === undefined) throw malformed(where, "line 4 is not the base64 of a 64-byte signature");
  return {
    algorithm,
    keyId: struct.subarray(2, 2 + KEY_ID_BYTES),
    signature: struct.subarray(2 + KEY_ID_BYTES),
    untrustedComment: untrusted.slice(UNTRUSTED_PREFIX.length),
    trustedComment: trusted.slice(TRUSTED_PREFIX.length),
    globalSignature,
  };
}

export function formatSignature(sig: MinisignSignature): string {
  const struct = Buffer.concat([Buffer.from(sig.algorithm, "latin1"), sig.keyId, sig.signature]);
  return [
    `${UNTRUSTED_PREFIX}${sig.untrustedComment}`,
    struct.toString("base64"),
    `${TRUSTED_PREFIX}${sig.trustedComment}`,
    sig.globalSignature.toString("base64"),
    "",
  ].join("\n");
}

/**
 * Content hashed by its reader as it streamed it (e.g. a catalog index read in slices, never held whole): the
 * BLAKE2b-512 of its bytes, which is what a prehashed (`ED`) signature signs, and for a legacy (`Ed`)
 * signature the bytes themselves, which `readBytes` must prove to be the same ones (e.g. by their digest).
 */
export interface PrehashedContent {
  blake2b512: Buffer;
  readBytes(): Promise<Uint8Array>;
}

/** The bytes an algorithm signs: the BLAKE2b-512 of the content (`ED`) or the content itself (`Ed`). */
export type SignedContent = { file: string } | { bytes: Uint8Array } | PrehashedContent;

export async function signedMessage(content: SignedContent, algorithm: SignatureAlgorithm, where: string): Promise<Buffer> {
  if ("blake2b512" in content) return algorithm === "ED" ? content.blake2b512 : Buffer.from(await content.readBytes());
  if ("bytes" in content) {
    return algorithm === "ED" ? createHash("blake2b512").update(content.bytes).digest() : Buffer.from(content.bytes);
  }
  if (algorithm === "ED") {
    return (await hashFile(content.file, "blake2b512")).digest;
  }
  if ((await stat(content.file)).size > LEGACY_MAX_BYTES) {
    throw new IntegrityError("signature-too-large", `${where}: a legacy (Ed) signature covers at most 1 GiB; this file is larger`, {
      where,
      hint: "sign large files prehashed (the default; minisign without -l)",
    });
  }
  return readFile(content.file);
}

function checkComment(comment: string, what: string): void {
  if (/[\r\n]/.test(comment)) throw new UsageError(`the ${what} comment must be one line`);
}

export interface SignOptions {
  /** `Ed` (legacy) instead of the default prehashed `ED`. */
  legacy?: boolean;
  trustedComment?: string;
  untrustedComment?: string;
  /** The signed file's name in the default trusted comment. */
  fileName?: string;
  /** Seconds since the epoch for the default trusted comment (default now). */
  timestamp?: number;
}

/** The `.minisig` text for `content`, signed with `key`. */
export async function signContent(content: SignedContent, key: MinisignSecretKey, options: SignOptions = {}): Promise<string> {
  const algorithm: SignatureAlgorithm = options.legacy === true ? "Ed" : "ED";
  const name = options.fileName ?? ("file" in content ? basename(content.file) : "data");
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const trustedComment = options.trustedComment ?? `timestamp:${timestamp}\tfile:${name}${algorithm === "ED" ? "\thashed" : ""}`;
  const untrustedComment = options.untrustedComment ?? "signature from minisign secret key";
  checkComment(trustedComment, "trusted");
  checkComment(untrustedComment, "untrusted");
  const privateKey = signingKeyObject(key);
  const signature = edSign(null, await signedMessage(content, algorithm, name), privateKey);
  const globalSignature = edSign(null, Buffer.concat([signature, Buffer.from(trustedComment, "utf8")]), privateKey);
  return formatSignature({ algorithm, keyId: key.keyId, signature, untrustedComment, trustedComment, globalSignature });
}

/**
 * Verify `sigText` over `content` with one of `keys`. Throws IntegrityError: `signature-malformed`,
 * `signature-untrusted-key` (signed by a key not in `keys`), `signature-invalid` (the content or the
 * trusted comment was altered, or the signature belongs to other content).
 */
export async function verifyContent(
  content: SignedContent,
  sigText: string,
  keys: readonly MinisignPublicKey[],
  where: string,
): Promise<VerifiedSignature> {
  const sig = parseSignature(sigText, where);
  const key = keys.find((k) => k.keyId.equals(sig.keyId));
  if (key === undefined) {
    const trusted = keys.map((k) => k.id).join(", ");
    throw new IntegrityError(
      "signature-untrusted-key",
      `${where}: signed by key ${keyIdText(sig.keyId)}, which is not trusted${trusted === "" ? "" : ` (trusted: ${trusted})`}`,
      { where, hint: "trust the publisher's new key only after checking it with them (pk3s catalog trust add)" },
    );
  }
  const publicKey = publicKeyObject(key);
  const message = await signedMessage(content, sig.algorithm, where);
  if (!edVerify(null, message, publicKey, sig.signature)) {
    throw new IntegrityError("signature-invalid", `${where}: the signature by key ${key.id} does not match the signed content`, {
      where,
      hint: "the content was altered after signing, or the signature belongs to another file",
    });
  }
  if (!edVerify(null, Buffer.concat([sig.signature, Buffer.from(sig.trustedComment, "utf8")]), publicKey, sig.globalSignature)) {
    throw new IntegrityError("signature-invalid", `${where}: the trusted comment was altered after signing (key ${key.id})`, { where });
  }
  return { key, algorithm: sig.algorithm, trustedComment: sig.trustedComment };
}
