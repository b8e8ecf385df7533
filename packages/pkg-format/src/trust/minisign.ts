/**
 * minisign-compatible Ed25519 signing (`@productive-k3s/pkg-format/minisign`):
 * public keys, secret keys (plain or scrypt-encrypted) and `.minisig`
 * signatures, in the formats the `minisign` tool reads and writes.
 */
export {
  formatPublicKeyFile,
  isPublicKeyLine,
  keyIdText,
  type MinisignPublicKey,
  parsePublicKey,
  readPublicKey,
} from "./public-key.js";
export {
  formatSecretKeyFile,
  generateSecretKey,
  type KdfLimits,
  type MinisignSecretKey,
  parseSecretKeyFile,
  publicKeyOf,
  type SecretKeyFile,
} from "./secret-key.js";
export {
  formatSignature,
  MAX_SIGNATURE_FILE_BYTES,
  type MinisignSignature,
  type PrehashedContent,
  parseSignature,
  type SignatureAlgorithm,
  type SignedContent,
  type SignOptions,
  signContent,
  type VerifiedSignature,
  verifyContent,
} from "./signature.js";
export { readPublicKeys, verifySignedFile } from "./signed-file.js";
