import { createHmac, randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { NotFoundError, UsageError } from "@productive-k3s/pkg-format/errors";
import { readRegularFile } from "@productive-k3s/pkg-format/regular-file";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import type { UserValues } from "./plan.js";

/** The user's `-f` files (made absolute, each must exist) and `--set` arguments (each `key=value`), in order. */
export async function resolveUserValues(files: readonly string[], sets: readonly string[]): Promise<UserValues> {
  const resolved: string[] = [];
  for (const f of files) {
    const abs = resolve(f);
    const st = await stat(abs).catch(() => undefined);
    if (st === undefined || !st.isFile())
      throw new NotFoundError(`values file ${f} not found`, { where: abs, hint: "check the -f/--values path" });
    resolved.push(abs);
  }
  for (const s of sets) {
    if (!/^[^=]+=/.test(s))
      throw new UsageError(`invalid --set ${quoteForTerminal(s.split("=")[0] ?? "")}: expected key=value (Helm --set syntax)`);
  }
  return { files: resolved, sets: [...sets] };
}

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
  for (const f of packageFiles) part("package", await readRegularFile(join(pkgDir, f), "values file"));
  for (const f of user.files) part("file", await readRegularFile(f, "values file"));
  for (const s of user.sets) part("set", s);
  return `hmac-sha256:${mac.digest("hex")}`;
}
