/**
 * minisign secret keys, read and written exactly as minisign does:
 * `untrusted comment: ...` then one base64 line of 158 bytes —
 * `Ed`, the KDF (`Sc` = scrypt, or two zero bytes = stored unencrypted),
 * `B2` (the checksum is BLAKE2b-256), a 32-byte salt, the KDF's opslimit and
 * memlimit (little-endian u64), then 104 bytes: key id (8), Ed25519 secret key
 * (seed 32 + public key 32) and the checksum (32) over `Ed` + key id + secret
 * key. An encrypted key XORs those 104 bytes with scrypt(passphrase, salt)
 * under libsodium's scryptsalsa208sha256 parameter choice (minisign's default
 * limits: N = 2^20, r = 8, p = 1, about 1 GiB of memory for a few seconds).
 * minisign leaves the checksum of an unencrypted key zero; a key is accepted
 * when its checksum (if any) holds and its public half matches its seed.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, scrypt } from "node:crypto";
import { UsageError } from "../errors.js";
import { decodeBase64Field, textLines } from "./base64-field.js";
import { blake2b } from "./blake2b.js";
import { KEY_ID_BYTES, type MinisignPublicKey, publicKeyFromParts, SIGNATURE_ALGORITHM } from "./public-key.js";

const KDF_SCRYPT = "Sc";
const KDF_NONE = "\0\0";
const CHECKSUM_ALGORITHM = "B2";
const SALT_BYTES = 32;
const SEED_BYTES = 32;
const CHECKSUM_BYTES = 32;
const KEYNUM_BYTES = KEY_ID_BYTES + 64 + CHECKSUM_BYTES;
const OFFSET_SALT = 6;
const OFFSET_OPSLIMIT = OFFSET_SALT + SALT_BYTES;
const OFFSET_MEMLIMIT = OFFSET_OPSLIMIT + 8;
const OFFSET_KEYNUM = OFFSET_MEMLIMIT + 8;
const STRUCT_BYTES = OFFSET_KEYNUM + KEYNUM_BYTES;
const UNTRUSTED_PREFIX = "untrusted comment: ";

/** libsodium's crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE / MEMLIMIT_SENSITIVE, minisign's choice. */
export const KDF_OPSLIMIT = 33_554_432n;
export const KDF_MEMLIMIT = 1_073_741_824n;
/** Refuse a key file whose KDF would need more memory than this. */
const MAX_KDF_MEMORY = 4 * 1024 ** 3;

export interface MinisignSecretKey {
  keyId: Buffer;
  /** The Ed25519 seed (32 bytes). */
  seed: Buffer;
  publicKey: Buffer;
}

/** A parsed secret key file; an encrypted one needs its passphrase to be opened. */
export interface SecretKeyFile {
  encrypted: boolean;
  open(passphrase: string | undefined): Promise<MinisignSecretKey>;
}

function badKey(where: string, why: string): UsageError {
  return new UsageError(`${where}: not a usable minisign secret key (${why})`, {
    where,
    hint: "pass a secret key written by `pk3s key generate` or `minisign -G`",
  });
}

/** libsodium's pickparams(): scrypt's N, r and p from an opslimit and a memlimit. */
export function scryptParameters(opslimit: bigint, memlimit: bigint): { N: number; r: number; p: number } {
  const ops = opslimit < 32768n ? 32768n : opslimit;
  const r = 8n;
  let nLog2 = 1n;
  let p: bigint;
  if (ops < memlimit / 32n) {
    p = 1n;
    const maxN = ops / (r * 4n);
    for (nLog2 = 1n; nLog2 < 63n; nLog2++) if (1n << nLog2 > maxN / 2n) break;
  } else {
    const maxN = memlimit / (r * 128n);
    for (nLog2 = 1n; nLog2 < 63n; nLog2++) if (1n << nLog2 > maxN / 2n) break;
    let maxrp = ops / 4n / (1n << nLog2);
    if (maxrp > 0x3fffffffn) maxrp = 0x3fffffffn;
    p = maxrp / r;
  }
  return { N: Number(1n << nLog2), r: Number(r), p: Number(p) };
}

function scryptStream(passphrase: string, salt: Buffer, opslimit: bigint, memlimit: bigint, where: string): Promise<Buffer> {
  const { N, r, p } = scryptParameters(opslimit, memlimit);
  const memory = 128 * r * (N + p + 2);
  if (p < 1 || !Number.isSafeInteger(memory) || memory > MAX_KDF_MEMORY) {
    throw badKey(where, `its key derivation asks for N=${N}, r=${r}, p=${p}`);
  }
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(passphrase, "utf8"), salt, KEYNUM_BYTES, { N, r, p, maxmem: memory + 1024 * 1024 }, (err, key) =>
      err === null ? resolve(key) : reject(err),
    );
  });
}

function xorInto(target: Buffer, stream: Buffer): void {
  for (let i = 0; i < target.length; i++) target[i] = target[i]! ^ stream[i]!;
}

function checksum(keyId: Buffer, secret: Buffer): Buffer {
  return blake2b(Buffer.concat([Buffer.from(SIGNATURE_ALGORITHM, "latin1"), keyId, secret]), CHECKSUM_BYTES);
}

function privateKeyFor(seed: Buffer, publicKey: Buffer): KeyObject {
  return createPrivateKey({
    key: { kty: "OKP", crv: "Ed25519", d: seed.toString("base64url"), x: publicKey.toString("base64url") },
    format: "jwk",
  });
}

/** The public key an Ed25519 seed really belongs to. */
function derivedPublicKey(seed: Buffer): Buffer {
  const jwk = createPrivateKey({
    key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]),
    format: "der",
    type: "pkcs8",
  }).export({ format: "jwk" });
  return Buffer.from(jwk.x ?? "", "base64url");
}

export function parseSecretKeyFile(text: string, where: string): SecretKeyFile {
  const lines = textLines(text);
  if (lines.length !== 2 || !lines[0]!.startsWith(UNTRUSTED_PREFIX)) {
    throw badKey(where, `expected "${UNTRUSTED_PREFIX}..." and one base64 line`);
  }
  const struct = decodeBase64Field(lines[1]!.trim(), STRUCT_BYTES);
  if (struct === undefined) throw badKey(where, `expected the base64 of ${STRUCT_BYTES} bytes`);
  if (struct.toString("latin1", 0, 2) !== SIGNATURE_ALGORITHM) throw badKey(where, "unsupported signature algorithm");
  if (struct.toString("latin1", 4, 6) !== CHECKSUM_ALGORITHM) throw badKey(where, "unsupported checksum algorithm");
  const kdf = struct.toString("latin1", 2, 4);
  if (kdf !== KDF_SCRYPT && kdf !== KDF_NONE) throw badKey(where, "unsupported key derivation function");
  const encrypted = kdf === KDF_SCRYPT;
  return {
    encrypted,
    async open(passphrase) {
      const keynum = Buffer.from(struct.subarray(OFFSET_KEYNUM));
      if (encrypted) {
        if (passphrase === undefined) {
          throw new UsageError(`${where} is encrypted and no passphrase was given`, {
            where,
            hint: "set PK3S_SIGNING_PASSPHRASE or pass --passphrase-stdin",
          });
        }
        const salt = struct.subarray(OFFSET_SALT, OFFSET_OPSLIMIT);
        const opslimit = struct.readBigUInt64LE(OFFSET_OPSLIMIT);
        const memlimit = struct.readBigUInt64LE(OFFSET_MEMLIMIT);
        xorInto(keynum, await scryptStream(passphrase, salt, opslimit, memlimit, where));
      }
      const keyId = keynum.subarray(0, KEY_ID_BYTES);
      const secret = keynum.subarray(KEY_ID_BYTES, KEY_ID_BYTES + 64);
      const stored = keynum.subarray(KEY_ID_BYTES + 64);
      const seed = secret.subarray(0, SEED_BYTES);
      const publicKey = secret.subarray(SEED_BYTES);
      const checksumPresent = encrypted || stored.some((b) => b !== 0);
      if ((checksumPresent && !checksum(keyId, secret).equals(stored)) || !derivedPublicKey(seed).equals(publicKey)) {
        if (encrypted) throw new UsageError(`wrong passphrase for ${where}`, { where, hint: "check PK3S_SIGNING_PASSPHRASE (or stdin)" });
        throw badKey(where, "its checksum or public half does not match");
      }
      return { keyId: Buffer.from(keyId), seed: Buffer.from(seed), publicKey: Buffer.from(publicKey) };
    },
  };
}

/** A new key pair with a random key id. */
export function generateSecretKey(): MinisignSecretKey {
  const jwk = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
  return {
    keyId: randomBytes(KEY_ID_BYTES),
    seed: Buffer.from(jwk.d ?? "", "base64url"),
    publicKey: Buffer.from(jwk.x ?? "", "base64url"),
  };
}

export function publicKeyOf(key: MinisignSecretKey): MinisignPublicKey {
  return publicKeyFromParts(key.keyId, key.publicKey);
}

/** One KeyObject per key: signing 2,000 packages spent more on rebuilding it from JWK than on signing. */
const keyObjects = new WeakMap<MinisignSecretKey, KeyObject>();

export function signingKeyObject(key: MinisignSecretKey): KeyObject {
  let object = keyObjects.get(key);
  if (object === undefined) {
    object = privateKeyFor(key.seed, key.publicKey);
    keyObjects.set(key, object);
  }
  return object;
}

export interface KdfLimits {
  opslimit: bigint;
  memlimit: bigint;
}

/**
 * The secret key file: encrypted when a passphrase is given, else stored as minisign -W stores it.
 * `kdf` defaults to minisign's limits; the file records them, so minisign opens a key made with others (tests
 * use libsodium's interactive limits to stay fast).
 */
export async function formatSecretKeyFile(
  key: MinisignSecretKey,
  passphrase?: string,
  kdf: KdfLimits = { opslimit: KDF_OPSLIMIT, memlimit: KDF_MEMLIMIT },
): Promise<string> {
  const secret = Buffer.concat([key.seed, key.publicKey]);
  const keynum = Buffer.concat([key.keyId, secret, checksum(key.keyId, secret)]);
  const salt = passphrase === undefined ? Buffer.alloc(SALT_BYTES) : randomBytes(SALT_BYTES);
  const limits = Buffer.alloc(16);
  if (passphrase !== undefined) {
    limits.writeBigUInt64LE(kdf.opslimit, 0);
    limits.writeBigUInt64LE(kdf.memlimit, 8);
    xorInto(keynum, await scryptStream(passphrase, salt, kdf.opslimit, kdf.memlimit, "the new key"));
  }
  const struct = Buffer.concat([
    Buffer.from(SIGNATURE_ALGORITHM, "latin1"),
    Buffer.from(passphrase === undefined ? KDF_NONE : KDF_SCRYPT, "latin1"),
    Buffer.from(CHECKSUM_ALGORITHM, "latin1"),
    salt,
    limits,
    keynum,
  ]);
  const comment = passphrase === undefined ? "minisign unencrypted secret key" : "minisign encrypted secret key";
  return `${UNTRUSTED_PREFIX}${comment}\n${struct.toString("base64")}\n`;
}
