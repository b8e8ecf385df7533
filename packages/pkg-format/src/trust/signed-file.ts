/** A file and the `.minisig` beside it (or named), verified with the given public keys. */
import { readFile, stat } from "node:fs/promises";
import { IntegrityError, NotFoundError } from "../errors.js";
import { type MinisignPublicKey, readPublicKey } from "./public-key.js";
import { MAX_SIGNATURE_FILE_BYTES, type VerifiedSignature, verifyContent } from "./signature.js";

export async function verifySignedFile(
  file: string,
  keys: readonly MinisignPublicKey[],
  signatureFile = `${file}.minisig`,
): Promise<VerifiedSignature & { signatureFile: string }> {
  const isFile = await stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isFile) throw new NotFoundError(`file not found: ${file}`, { where: file });
  let sigText: string;
  try {
    const st = await stat(signatureFile);
    if (st.size > MAX_SIGNATURE_FILE_BYTES)
      throw new IntegrityError("signature-malformed", `${signatureFile} is too large to be a signature`);
    sigText = await readFile(signatureFile, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
    throw new IntegrityError("signature-missing", `${file} has no signature: ${signatureFile} is missing`, {
      where: signatureFile,
      hint: "the publisher signs with `pk3s sign` or `minisign -S`; the .minisig file goes beside the package",
    });
  }
  return { ...(await verifyContent({ file }, sigText, keys, signatureFile)), signatureFile };
}

/** Each `--verify-key`/`--key` value (a key file or a base64 line) as a key. */
export function readPublicKeys(values: readonly string[], label: string): Promise<MinisignPublicKey[]> {
  return Promise.all(values.map((v) => readPublicKey(v, label)));
}
