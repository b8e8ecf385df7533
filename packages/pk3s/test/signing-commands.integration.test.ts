/**
 * `pk3s key generate`, `pk3s sign`, `pk3s verify`, and the runtimes' `--verify-key`, run as built binaries;
 * signatures cross-checked with the real minisign (Debian package, installed by scripts/ci.sh).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { packPackage } from "@productive-k3s/pkg-format/pack";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PK3S_BIN, type Sandbox, sandbox } from "./helpers/cli.js";
import { writeAddonSource } from "./helpers/sources.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const CORE = join(REPO, "packages/core/dist/cli/productive-k3s-core.js");
const INFRA = join(REPO, "packages/infra/dist/cli/productive-k3s-infra.js");

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

function minisign(args: string[]): { status: number; out: string } {
  try {
    return { status: 0, out: execFileSync("/usr/bin/minisign", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { status: e.status ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

async function keyPair(prefix = "release"): Promise<{ pub: string; key: string; id: string; line: string }> {
  const r = await sb.run(["key", "generate", "--out", join(sb.root, prefix), "--json"]);
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout);
  return { pub: doc.publicKeyFile, key: doc.secretKeyFile, id: doc.keyId, line: doc.publicKey };
}

function payload(name: string, text = `payload ${name}\n`): string {
  const file = join(sb.root, name);
  writeFileSync(file, text);
  return file;
}

/** Run a binary with stdin fed from `input`. */
function runWithStdin(bin: string, args: string[], input: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...sb.env, ...env },
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code: code ?? 1, stderr }));
    child.stdin.end(input);
  });
}

describe("pk3s key generate", () => {
  it("writes PREFIX.pub and a 0600 PREFIX.key in minisign's formats, prints no secret, and keeps an existing pair", async () => {
    const r = await sb.run(["key", "generate", "--out", join(sb.root, "k")]);
    expect(r.code, r.stderr).toBe(0);
    const pub = readFileSync(join(sb.root, "k.pub"), "utf8");
    const key = readFileSync(join(sb.root, "k.key"), "utf8");
    expect(statSync(join(sb.root, "k.key")).mode & 0o777).toBe(0o600);
    expect(pub).toMatch(/^untrusted comment: minisign public key [0-9A-F]{16}\nRW[A-Za-z0-9+/]{54}\n$/);
    expect(key).toMatch(/^untrusted comment: minisign unencrypted secret key\nRW[A-Za-z0-9+/=]+\n$/);
    const secretLine = key.split("\n")[1]!;
    expect(r.stdout + r.stderr).not.toContain(secretLine.slice(60, 100));
    expect(r.stdout).toContain(pub.split("\n")[1]!);

    const again = await sb.run(["key", "generate", "--out", join(sb.root, "k")]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("k.key already exists");
    expect(readFileSync(join(sb.root, "k.key"), "utf8")).toBe(key);
    expect((await sb.run(["key", "generate", "--out", join(sb.root, "k"), "--force"])).code).toBe(0);
    expect(readFileSync(join(sb.root, "k.key"), "utf8")).not.toBe(key);
  });

  it("encrypts the key with a passphrase from stdin; signing then needs PK3S_SIGNING_PASSPHRASE; minisign verifies", {
    timeout: 120_000,
  }, async () => {
    const gen = await runWithStdin(
      PK3S_BIN,
      ["key", "generate", "--out", join(sb.root, "enc"), "--passphrase-stdin"],
      "s3cret words\n",
      {},
    );
    expect(gen.code, gen.stderr).toBe(0);
    expect(readFileSync(join(sb.root, "enc.key"), "utf8")).toMatch(/^untrusted comment: minisign encrypted secret key\n/);
    const file = payload("enc-signed.txt");
    const without = await sb.run(["sign", file, "--sign-key", join(sb.root, "enc.key")]);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain("is encrypted and no passphrase was given");
    const signed = await sb.run(["sign", file, "--sign-key", join(sb.root, "enc.key")], { PK3S_SIGNING_PASSPHRASE: "s3cret words" });
    expect(signed.code, signed.stderr).toBe(0);
    expect(minisign(["-V", "-p", join(sb.root, "enc.pub"), "-m", file]).status).toBe(0);
  });
  it("encrypts the key with the passphrase in PK3S_SIGNING_PASSPHRASE, printing neither; minisign signs with it", {
    timeout: 120_000,
  }, async () => {
    const passphrase = "env-held passphrase";
    const gen = await sb.run(["key", "generate", "--out", join(sb.root, "envkey"), "--json"], { PK3S_SIGNING_PASSPHRASE: passphrase });
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout + gen.stderr).not.toContain(passphrase);
    expect(readFileSync(join(sb.root, "envkey.key"), "utf8")).toMatch(/^untrusted comment: minisign encrypted secret key\n/);
    const file = payload("env-signed.txt");
    execFileSync("/usr/bin/minisign", ["-S", "-s", join(sb.root, "envkey.key"), "-m", file], {
      input: `${passphrase}\n`,
      stdio: ["pipe", "ignore", "pipe"],
    });
    const verified = await sb.run(["verify", file, "--key", join(sb.root, "envkey.pub"), "--json"]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ keyId: JSON.parse(gen.stdout).keyId });
  });
});

describe("pk3s sign and pk3s verify", () => {
  it("sign writes FILE.minisig that minisign and pk3s verify; the key comes from a 0600 file or PK3S_SIGNING_KEY", async () => {
    const k = await keyPair();
    const a = payload("a.txt");
    const b = payload("b.txt");
    const r = await sb.run(["sign", a, b, "--sign-key", k.key]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote ${a}.minisig (key ${k.id})\nwrote ${b}.minisig (key ${k.id})\n`);
    expect(minisign(["-V", "-H", "-p", k.pub, "-m", a]).status).toBe(0);
    expect(minisign(["-V", "-P", k.line, "-m", b]).status).toBe(0);
    const v = await sb.run(["verify", a, "--key", k.pub, "--json"]);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, keyId: k.id, algorithm: "prehashed", signature: `${a}.minisig` });

    // From the environment: the whole file, or its base64 line alone; legacy signatures too.
    const keyText = readFileSync(k.key, "utf8");
    const c = payload("c.txt");
    expect((await sb.run(["sign", c, "--legacy"], { PK3S_SIGNING_KEY: keyText })).code).toBe(0);
    expect(JSON.parse((await sb.run(["verify", c, "--key", k.line, "--json"])).stdout).algorithm).toBe("legacy");
    expect(minisign(["-V", "-p", k.pub, "-m", c]).status).toBe(0);
    const d = payload("d.txt");
    expect((await sb.run(["sign", d], { PK3S_SIGNING_KEY: keyText.split("\n")[1]! })).code).toBe(0);
    expect((await sb.run(["verify", d, "--key", k.pub])).code).toBe(0);
  });

  it("refuses a secret key others can read, and signing without a key, before writing anything", async () => {
    const k = await keyPair();
    const a = payload("a.txt");
    execFileSync("chmod", ["644", k.key]);
    const open = await sb.run(["sign", a, "--sign-key", k.key]);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain("is readable by others (mode 644)");
    const none = await sb.run(["sign", a]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no signing key");
    expect(() => statSync(`${a}.minisig`)).toThrow();
  });

  it("verify exits 6 for altered content, another key, a missing or malformed signature", async () => {
    const k = await keyPair();
    const other = await keyPair("other");
    const a = payload("a.txt");
    await sb.run(["sign", a, "--sign-key", k.key]);
    const wrongKey = await sb.run(["verify", a, "--key", other.pub]);
    expect(wrongKey.code).toBe(6);
    expect(wrongKey.stderr).toContain(`signed by key ${k.id}, which is not trusted (trusted: ${other.id})`);
    expect((await sb.run(["verify", a, "--key", other.pub, "--key", k.pub])).code).toBe(0);
    writeFileSync(a, "altered\n");
    const altered = await sb.run(["verify", a, "--key", k.pub, "--json"]);
    expect(altered.code).toBe(6);
    expect(JSON.parse(altered.stdout).error).toMatchObject({ reason: "signature-invalid" });
    const missing = await sb.run(["verify", payload("b.txt"), "--key", k.pub]);
    expect(missing.code).toBe(6);
    expect(missing.stderr).toContain("has no signature");
    writeFileSync(`${a}.minisig`, "<html>404</html>\n");
    expect((await sb.run(["verify", a, "--key", k.pub])).code).toBe(6);
  });

  it("verifies what minisign signs (prehashed and legacy)", async () => {
    const pub = join(sb.root, "ms.pub");
    const key = join(sb.root, "ms.key");
    expect(minisign(["-G", "-W", "-p", pub, "-s", key]).status).toBe(0);
    const a = payload("a.txt");
    expect(minisign(["-S", "-s", key, "-m", a]).status).toBe(0);
    expect(JSON.parse((await sb.run(["verify", a, "--key", pub, "--json"])).stdout).algorithm).toBe("prehashed");
    expect(minisign(["-S", "-l", "-s", key, "-m", a]).status).toBe(0);
    expect(JSON.parse((await sb.run(["verify", a, "--key", pub, "--json"])).stdout).algorithm).toBe("legacy");
    // minisign's own secret key signs in pk3s too.
    const b = payload("b.txt");
    expect((await sb.run(["sign", b, "--sign-key", key])).code).toBe(0);
    expect(minisign(["-V", "-p", pub, "-m", b]).status).toBe(0);
  });
});

describe("the runtimes' --verify-key", () => {
  function runtime(bin: string, args: string[]): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...sb.env }, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
      });
      child.on("close", (code) => resolve({ code: code ?? 1, stderr }));
    });
  }

  it("productive-k3s-core checks --tgz and every --dependency-tgz before anything runs", async () => {
    const k = await keyPair();
    const other = await keyPair("other");
    const out = join(sb.root, "pkgs");
    mkdirSync(out);
    const app = await packPackage(await writeAddonSource(join(sb.root, "src"), "app", "1.0.0"), out);
    const dep = await packPackage(await writeAddonSource(join(sb.root, "src"), "dep", "1.0.0"), out);

    const unsigned = await runtime(CORE, ["addon", "validate", "--tgz", app.file, "--verify-key", k.pub]);
    expect(unsigned.code).toBe(6);
    expect(unsigned.stderr).toContain(`${app.file} has no signature`);
    expect((await sb.run(["sign", app.file, "--sign-key", k.key])).code).toBe(0);
    const ok = await runtime(CORE, ["addon", "validate", "--tgz", app.file, "--verify-key", k.line]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain(`verified ${app.file}: signed by key ${k.id}`);
    expect((await runtime(CORE, ["addon", "validate", "--tgz", app.file, "--verify-key", other.pub])).code).toBe(6);

    // A dependency handed over in the same run is checked too: unsigned, nothing is planned.
    const withDep = await runtime(CORE, [
      "addon",
      "install",
      "--tgz",
      app.file,
      "--dependency-tgz",
      dep.file,
      "--dry-run",
      "--verify-key",
      k.pub,
    ]);
    expect(withDep.code).toBe(6);
    expect(withDep.stderr).toContain(`${dep.file} has no signature`);
  });

  it("productive-k3s-infra checks the profile package", async () => {
    const k = await keyPair();
    const profile = await packPackage(join(REPO, "fixtures/profiles/local-lab"), join(sb.root, "pkgs"));
    const r = await runtime(INFRA, ["profile", "validate", "--tgz", profile.file, "--verify-key", k.pub]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("has no signature");
    await sb.run(["sign", profile.file, "--sign-key", k.key]);
    writeFileSync(profile.file, Buffer.concat([readFileSync(profile.file), Buffer.from("x")]));
    const altered = await runtime(INFRA, ["profile", "validate", "--tgz", profile.file, "--verify-key", k.pub]);
    expect(altered.code).toBe(6);
    expect(altered.stderr).toContain("does not match the signed content");
  });
});
