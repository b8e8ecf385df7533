import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { IntegrityError, UsageError } from "../src/errors.js";
import { blake2b } from "../src/trust/blake2b.js";
import {
  formatPublicKeyFile,
  formatSecretKeyFile,
  generateSecretKey,
  parsePublicKey,
  parseSecretKeyFile,
  parseSignature,
  publicKeyOf,
  readPublicKey,
  signContent,
  verifyContent,
} from "../src/trust/minisign.js";
import { scryptParameters } from "../src/trust/secret-key.js";

const dir = mkdtempSync(join(tmpdir(), "pkgf-minisign-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function reasonOf(err: unknown): string {
  if (err instanceof IntegrityError) return err.reason;
  throw err;
}

describe("BLAKE2b", () => {
  it("matches RFC 7693's BLAKE2b-512 vector and the published BLAKE2b-256 of 'abc'", () => {
    expect(blake2b(Buffer.from("abc"), 64).toString("hex")).toBe(
      "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
    );
    expect(blake2b(Buffer.from("abc"), 32).toString("hex")).toBe("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    expect(blake2b(Buffer.alloc(0), 32).toString("hex")).toBe("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  });

  it("equals Node's blake2b512 at every length around the block boundaries", () => {
    for (const length of [0, 1, 73, 74, 127, 128, 129, 255, 256, 257, 1000]) {
      const data = randomBytes(length);
      expect(blake2b(data, 64).equals(createHash("blake2b512").update(data).digest()), `length ${length}`).toBe(true);
    }
  });
});

describe("scrypt parameters", () => {
  it("are libsodium's for minisign's sensitive limits (N=2^20, r=8, p=1) and for small limits", () => {
    expect(scryptParameters(33_554_432n, 1_073_741_824n)).toEqual({ N: 2 ** 20, r: 8, p: 1 });
    // opslimit < memlimit / 32: N from the opslimit (interactive limits).
    expect(scryptParameters(524_288n, 16_777_216n)).toEqual({ N: 2 ** 14, r: 8, p: 1 });
  });
});

describe("keys", () => {
  const secret = generateSecretKey();
  const pub = publicKeyOf(secret);

  it("writes a public key file minisign's way and reads it back, from the file text or the base64 line", () => {
    const text = formatPublicKeyFile(pub);
    expect(text).toBe(`untrusted comment: minisign public key ${pub.id}\n${pub.base64}\n`);
    expect(pub.id).toMatch(/^[0-9A-F]{16}$/);
    expect(pub.base64).toMatch(/^RW/);
    expect(parsePublicKey(text, "k.pub").publicKey.equals(pub.publicKey)).toBe(true);
    expect(parsePublicKey(pub.base64, "--trust-key").id).toBe(pub.id);
    expect(parsePublicKey(text.replace(/\n/g, "\r\n"), "k.pub").id).toBe(pub.id);
  });

  it("refuses what is not a public key, naming where it came from", () => {
    for (const bad of ["", "RWQ", `${pub.base64}x`, `comment\n${pub.base64}\n`, "a\nb\nc\n"]) {
      expect(() => parsePublicKey(bad, "--trust-key")).toThrow(UsageError);
    }
    expect(() => parsePublicKey(pub.base64, "--trust-key")).not.toThrow();
    // A secret key is not a public key.
    expect(() => parsePublicKey("untrusted comment: x\nRWQAAEIy", "k.key")).toThrow(/not a minisign public key/);
  });

  it("reads --trust-key as a base64 line or a file, and says so when the file is missing", async () => {
    writeFileSync(join(dir, "k.pub"), formatPublicKeyFile(pub));
    expect((await readPublicKey(join(dir, "k.pub"), "--trust-key")).id).toBe(pub.id);
    expect((await readPublicKey(pub.base64, "--trust-key")).id).toBe(pub.id);
    await expect(readPublicKey(join(dir, "missing.pub"), "--trust-key")).rejects.toThrow(/public key file not found/);
  });

  it("round-trips an unencrypted secret key and detects a damaged one", async () => {
    const text = await formatSecretKeyFile(secret);
    const file = parseSecretKeyFile(text, "k.key");
    expect(file.encrypted).toBe(false);
    const opened = await file.open(undefined);
    expect(opened.seed.equals(secret.seed)).toBe(true);
    expect(opened.keyId.equals(secret.keyId)).toBe(true);
    // Flip a byte of the seed inside the base64 line: the public half no longer matches.
    const [comment, line] = text.split("\n") as [string, string];
    const bytes = Buffer.from(line, "base64");
    bytes[70] = bytes[70]! ^ 1;
    await expect(parseSecretKeyFile(`${comment}\n${bytes.toString("base64")}\n`, "k.key").open(undefined)).rejects.toThrow(
      /checksum or public half does not match/,
    );
  });

  it("never puts key material in its errors", async () => {
    const text = await formatSecretKeyFile(secret);
    const line = text.split("\n")[1]!;
    try {
      parseSecretKeyFile(`${line}\n`, "$PK3S_SIGNING_KEY");
      expect.unreachable();
    } catch (err) {
      expect(String((err as Error).message)).not.toContain(line.slice(10, 40));
      expect((err as Error).message).toContain("$PK3S_SIGNING_KEY");
    }
  });
});

describe("signatures", () => {
  const secret = generateSecretKey();
  const pub = publicKeyOf(secret);
  const other = publicKeyOf(generateSecretKey());
  const file = join(dir, "payload.bin");
  writeFileSync(file, randomBytes(300_000));

  for (const legacy of [false, true]) {
    const algorithm = legacy ? "Ed" : "ED";
    it(`signs and verifies (${algorithm}), with minisign's default comments`, async () => {
      const sig = await signContent({ file }, secret, { legacy, timestamp: 1700000000 });
      const parsed = parseSignature(sig, "payload.bin.minisig");
      expect(parsed.algorithm).toBe(algorithm);
      expect(parsed.untrustedComment).toBe("signature from minisign secret key");
      expect(parsed.trustedComment).toBe(`timestamp:1700000000\tfile:payload.bin${legacy ? "" : "\thashed"}`);
      const verified = await verifyContent({ file }, sig, [other, pub], "payload.bin");
      expect(verified.key.id).toBe(pub.id);
      expect(verified.algorithm).toBe(algorithm);
      // The same content as bytes verifies too.
      await verifyContent({ bytes: (await import("node:fs")).readFileSync(file) }, sig, [pub], "payload");
    });
  }

  it("refuses other content, an altered trusted comment, an untrusted key and a malformed file, each with its reason", async () => {
    const sig = await signContent({ bytes: Buffer.from("one") }, secret);
    const reason = (p: Promise<unknown>): Promise<string> => p.then(() => "ok", reasonOf);
    expect(await reason(verifyContent({ bytes: Buffer.from("two") }, sig, [pub], "x"))).toBe("signature-invalid");
    const lines = sig.split("\n");
    lines[2] = `${lines[2]} (edited)`;
    expect(await reason(verifyContent({ bytes: Buffer.from("one") }, lines.join("\n"), [pub], "x"))).toBe("signature-invalid");
    expect(await reason(verifyContent({ bytes: Buffer.from("one") }, sig, [other], "x"))).toBe("signature-untrusted-key");
    expect(await reason(verifyContent({ bytes: Buffer.from("one") }, sig.split("\n").slice(1).join("\n"), [pub], "x"))).toBe(
      "signature-malformed",
    );
    expect(await reason(verifyContent({ bytes: Buffer.from("one") }, "<html>not found</html>", [pub], "x"))).toBe("signature-malformed");
  });

  it("names the signing key and the trusted keys when the key is not trusted", async () => {
    const sig = await signContent({ bytes: Buffer.from("one") }, secret);
    await expect(verifyContent({ bytes: Buffer.from("one") }, sig, [other], "index.yaml.minisig")).rejects.toThrow(
      `index.yaml.minisig: signed by key ${pub.id}, which is not trusted (trusted: ${other.id})`,
    );
  });
});
