/** `pk3s sign FILE...`: a `.minisig` beside each file, made with the publisher's secret key. */
import { stat } from "node:fs/promises";
import { writeFileAtomic } from "@productive-k3s/pkg-format/atomic";
import { NotFoundError } from "@productive-k3s/pkg-format/errors";
import { loadSigningKey, type SigningKeyInput } from "../trust/signing-key.js";

export interface SignInput extends SigningKeyInput {
  files: string[];
  legacy?: boolean | undefined;
  trustedComment?: string | undefined;
}

export interface SignResult {
  keyId: string;
  signatures: { file: string; signature: string }[];
}

export async function signFiles(input: SignInput): Promise<SignResult> {
  for (const file of input.files) {
    const ok = await stat(file).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!ok) throw new NotFoundError(`file not found: ${file}`, { where: file });
  }
  const { key } = await loadSigningKey(input);
  const { publicKeyOf, signContent } = await import("@productive-k3s/pkg-format/minisign");
  const signatures: SignResult["signatures"] = [];
  for (const file of input.files) {
    const text = await signContent({ file }, key, { legacy: input.legacy, trustedComment: input.trustedComment });
    await writeFileAtomic(`${file}.minisig`, text, { mode: 0o644 });
    signatures.push({ file, signature: `${file}.minisig` });
  }
  return { keyId: publicKeyOf(key).id, signatures };
}
