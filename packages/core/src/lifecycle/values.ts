import { createHmac, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { UserValues } from "./plan.js";

/**
 * HMAC-SHA256, keyed with the installation's values key
 * (records/values-key.ts), over every values input in order: package values
 * files, the user's -f files, --set arguments. Each part is framed by its kind
 * and length, so moving bytes from one part to the next changes the result.
 * Only the fingerprint is stored, never values; without the key it says
 * nothing about them. Same key and values ⇒ same fingerprint; any change ⇒
 * another one. `key` undefined (a dry run before any install made the key):
 * a one-off key, which matches no stored fingerprint.
 */
export async function fingerprintValues(
  key: Buffer | undefined,
  pkgDir: string,
  packageFiles: readonly string[],
  user: UserValues,
): Promise<string> {
  const mac = createHmac("sha256", key ?? randomBytes(32));
  const part = (kind: string, data: string | Buffer): void => {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    mac.update(`${kind}:${bytes.length}\n`);
    mac.update(bytes);
  };
  for (const f of packageFiles) part("package", await readFile(join(pkgDir, f)));
  for (const f of user.files) part("file", await readFile(f));
  for (const s of user.sets) part("set", s);
  return `hmac-sha256:${mac.digest("hex")}`;
}
