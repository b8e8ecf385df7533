import { createHash } from "node:crypto";
import { join } from "node:path";
import { readRegularFile } from "@productive-k3s/pkg-format/regular-file";
import type { UserValues } from "./plan.js";

/**
 * sha256 over every values input in order (package values files, the user's
 * -f files, --set arguments). Only the fingerprint is stored, never values.
 */
export async function fingerprintValues(pkgDir: string, packageFiles: readonly string[], user: UserValues): Promise<string> {
  const hash = createHash("sha256");
  const part = (kind: string, data: string | Buffer): void => {
    const digest = createHash("sha256").update(data).digest("hex");
    hash.update(`${kind}:${digest}\n`);
  };
  for (const f of packageFiles) part("package", await readRegularFile(join(pkgDir, f), "values file"));
  for (const f of user.files) part("file", await readRegularFile(f, "values file"));
  for (const s of user.sets) part("set", s);
  return `sha256:${hash.digest("hex")}`;
}
