/**
 * Publisher side of a signed catalog, shared by `catalog index` and
 * `catalog prune`: the next serial and the expiry of a published index, the
 * index's `.minisig`, and each package's `.minisig` (kept when the package is
 * unchanged and was already signed with the same key, so a re-publication does
 * not rewrite every signature).
 */
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "@productive-k3s/pkg-format/atomic";
import { parseDurationMs } from "@productive-k3s/pkg-format/cli";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import type { MinisignSecretKey } from "@productive-k3s/pkg-format/minisign";
import { loadSigningKey, SIGNING_KEY_ENV, type SigningKeyInput } from "../trust/signing-key.js";
import { indexYaml } from "./index-yaml.js";

export const DEFAULT_EXPIRES_IN = "30d";

/** The signing key when one is given (`--sign-key`, or PK3S_SIGNING_KEY), else undefined. */
export async function publisherKey(input: SigningKeyInput): Promise<MinisignSecretKey | undefined> {
  const fromEnv = process.env[SIGNING_KEY_ENV];
  if (input.keyFile === undefined && (fromEnv === undefined || fromEnv.trim() === "")) return undefined;
  return (await loadSigningKey(input)).key;
}

/** `--expires-in`: days (`30d`) or a duration (`720h`, `90m`), in milliseconds. */
export function expiresInMs(value: string): number {
  const days = /^(\d+)d$/.exec(value.trim());
  if (days !== null && Number(days[1]) > 0) return Number(days[1]) * 86_400_000;
  return parseDurationMs(value, "--expires-in");
}

export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The serial of the next publication: the given one (never below the previous), else previous + 1, else 1. */
export function nextSerial(previous: number | undefined, given: number | undefined): number {
  if (given === undefined) return (previous ?? 0) + 1;
  if (!Number.isSafeInteger(given) || given < 0) throw new UsageError(`--serial must be a whole number >= 0, got ${given}`);
  if (previous !== undefined && given <= previous) {
    throw new UsageError(`--serial ${given} is not above the previous index's serial ${previous}`, {
      hint: "clients that saw the previous index refuse a lower or equal serial; pass a higher one or leave --serial out",
    });
  }
  return given;
}

/**
 * `serial` and `expires` of the next publication: the next serial after `previousSerial` (or `serial`), valid for
 * `expiresIn` (default 30 days) from `now`, the real time of publication.
 */
export function publicationFields(
  previousSerial: number | undefined,
  options: { serial?: number | undefined; expiresIn?: string | undefined; now?: Date | undefined },
): { serial: number; expires: string } {
  const validFor = expiresInMs(options.expiresIn ?? DEFAULT_EXPIRES_IN);
  return {
    serial: nextSerial(previousSerial, options.serial),
    expires: rfc3339(new Date((options.now ?? new Date()).getTime() + validFor)),
  };
}

/** Write the index document, then (with a key) its signature. */
export async function writeIndex(out: string, doc: Record<string, unknown>, key: MinisignSecretKey | undefined): Promise<void> {
  await writeFileAtomic(out, await indexYaml(doc), { mode: 0o644 });
  if (key !== undefined) await writeSignature(out, key);
}

/** Write `<file>.minisig` for `file` with `key`. */
export async function writeSignature(file: string, key: MinisignSecretKey): Promise<void> {
  const { signContent } = await import("@productive-k3s/pkg-format/minisign");
  await writeFileAtomic(`${file}.minisig`, await signContent({ file }, key), { mode: 0o644 });
}

/**
 * Sign a package unless `unchanged` (same bytes as in the previous index) and its `.minisig` already names
 * this key. Returns whether a signature was written.
 */
export async function signPackage(file: string, key: MinisignSecretKey, unchanged: boolean): Promise<boolean> {
  if (unchanged) {
    const existing = await readFile(`${file}.minisig`, "utf8").catch(() => undefined);
    if (existing !== undefined) {
      const { parseSignature } = await import("@productive-k3s/pkg-format/minisign");
      try {
        if (parseSignature(existing, `${file}.minisig`).keyId.equals(key.keyId)) return false;
      } catch {
        // a malformed signature is replaced
      }
    }
  }
  await writeSignature(file, key);
  return true;
}
