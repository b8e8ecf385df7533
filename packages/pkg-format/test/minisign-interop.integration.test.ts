/**
 * Interoperability with the real minisign (Debian package `minisign`, installed by scripts/ci.sh):
 * keys and signatures made by either side are read and verified by the other, for the prehashed
 * (`ED`) and legacy (`Ed`) forms, unencrypted and scrypt-encrypted secret keys.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  formatPublicKeyFile,
  formatSecretKeyFile,
  generateSecretKey,
  parsePublicKey,
  parseSecretKeyFile,
  publicKeyOf,
  signContent,
  verifyContent,
} from "../src/trust/minisign.js";

const MINISIGN = "/usr/bin/minisign";
const INTERACTIVE = { opslimit: 524_288n, memlimit: 16_777_216n };
const dir = mkdtempSync(join(tmpdir(), "pkgf-minisign-interop-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function minisign(args: string[], input = ""): { status: number; out: string } {
  const r = spawnSync(MINISIGN, args, { input, encoding: "utf8", timeout: 120_000 });
  if (r.error !== undefined) throw new Error(`cannot run ${MINISIGN} (install the Debian package minisign): ${r.error.message}`);
  return { status: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

function payload(name: string, size = 200_000): string {
  const file = join(dir, name);
  writeFileSync(file, randomBytes(size));
  return file;
}

describe("real minisign", () => {
  it("is installed", () => {
    expect(execFileSync(MINISIGN, ["-v"], { encoding: "utf8" })).toMatch(/^minisign \d/);
  });

  it("signs (prehashed and legacy) with a key from `minisign -G -W`; pk3s verifies both and signs with that key", async () => {
    const pub = join(dir, "ms.pub");
    const key = join(dir, "ms.key");
    expect(minisign(["-G", "-W", "-p", pub, "-s", key]).status).toBe(0);
    const publicKey = parsePublicKey(readFileSync(pub, "utf8"), pub);
    const file = payload("ms-signed.bin");
    expect(minisign(["-S", "-s", key, "-m", file]).status).toBe(0);
    expect(minisign(["-S", "-l", "-s", key, "-m", file, "-x", `${file}.legacy`]).status).toBe(0);
    const hashed = await verifyContent({ file }, readFileSync(`${file}.minisig`, "utf8"), [publicKey], "ms");
    expect(hashed.algorithm).toBe("ED");
    expect(hashed.trustedComment).toMatch(/^timestamp:\d+\tfile:ms-signed\.bin\thashed$/);
    const legacy = await verifyContent({ file }, readFileSync(`${file}.legacy`, "utf8"), [publicKey], "ms");
    expect(legacy.algorithm).toBe("Ed");

    // pk3s signs with minisign's secret key; minisign verifies (-H: the prehashed form is required).
    const secret = await parseSecretKeyFile(readFileSync(key, "utf8"), key).open(undefined);
    expect(publicKeyOf(secret).id).toBe(publicKey.id);
    const ours = payload("ours-with-ms-key.bin");
    writeFileSync(`${ours}.minisig`, await signContent({ file: ours }, secret));
    const verified = minisign(["-V", "-H", "-p", pub, "-m", ours]);
    expect(verified.out).toContain("Signature and comment signature verified");
    expect(verified.status).toBe(0);
  });

  it("verifies what pk3s signs with a pk3s key (ED and Ed), and signs with that key itself", async () => {
    const secret = generateSecretKey();
    const pub = join(dir, "ours.pub");
    const key = join(dir, "ours.key");
    writeFileSync(pub, formatPublicKeyFile(publicKeyOf(secret)));
    writeFileSync(key, await formatSecretKeyFile(secret), { mode: 0o600 });
    const file = payload("ours.bin");
    writeFileSync(`${file}.minisig`, await signContent({ file }, secret, { trustedComment: "release 1.2.3" }));
    writeFileSync(`${file}.legacy`, await signContent({ file }, secret, { legacy: true }));
    const hashed = minisign(["-V", "-p", pub, "-m", file]);
    expect(hashed.out).toContain("Trusted comment: release 1.2.3");
    expect(hashed.status).toBe(0);
    expect(minisign(["-V", "-p", pub, "-m", file, "-x", `${file}.legacy`]).status).toBe(0);
    expect(minisign(["-V", "-P", publicKeyOf(secret).base64, "-m", file]).status).toBe(0);
    // A tampered file fails in minisign too.
    writeFileSync(file, randomBytes(10));
    expect(minisign(["-V", "-p", pub, "-m", file]).status).toBe(1);

    const signedByMinisign = payload("ms-with-our-key.bin");
    expect(minisign(["-S", "-s", key, "-m", signedByMinisign]).status).toBe(0);
    await verifyContent({ file: signedByMinisign }, readFileSync(`${signedByMinisign}.minisig`, "utf8"), [publicKeyOf(secret)], "x");
  });

  // minisign encrypts with scrypt at N=2^20 (1 GiB, seconds per run): one key made that way is opened here.
  it("opens a key minisign encrypted with a passphrase", { timeout: 120_000 }, async () => {
    const pub = join(dir, "enc.pub");
    const key = join(dir, "enc.key");
    expect(minisign(["-G", "-p", pub, "-s", key], "correct horse\ncorrect horse\n").status).toBe(0);
    const file = parseSecretKeyFile(readFileSync(key, "utf8"), key);
    expect(file.encrypted).toBe(true);
    const secret = await file.open("correct horse");
    expect(publicKeyOf(secret).id).toBe(parsePublicKey(readFileSync(pub, "utf8"), pub).id);
  });

  it("writes encrypted keys minisign opens, with the KDF limits the file records", async () => {
    const ours = generateSecretKey();
    const ourKey = join(dir, "ours-enc.key");
    // libsodium's interactive limits (N=2^14) keep the test fast; minisign reads the limits from the file.
    writeFileSync(ourKey, await formatSecretKeyFile(ours, "battery staple", INTERACTIVE), { mode: 0o600 });
    writeFileSync(join(dir, "ours-enc.pub"), formatPublicKeyFile(publicKeyOf(ours)));
    await expect(parseSecretKeyFile(readFileSync(ourKey, "utf8"), ourKey).open("wrong")).rejects.toThrow(`wrong passphrase for ${ourKey}`);
    const signed = payload("signed-with-encrypted.bin");
    const r = minisign(["-S", "-s", ourKey, "-m", signed], "battery staple\n");
    expect(r.status, r.out).toBe(0);
    await verifyContent({ file: signed }, readFileSync(`${signed}.minisig`, "utf8"), [publicKeyOf(ours)], "x");
  });
});
