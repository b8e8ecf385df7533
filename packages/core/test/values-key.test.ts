/**
 * The values key (one per installation, created once even by racing first
 * runs) and the keyed fingerprint made with it.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fingerprintValues } from "../src/lifecycle/values.js";
import { valuesKey } from "../src/records/values-key.js";

describe("values key", () => {
  let dir: string;
  const saved = process.env.PK3S_STATE_DIR;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "core-key-"));
    process.env.PK3S_STATE_DIR = dir;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.PK3S_STATE_DIR;
    else process.env.PK3S_STATE_DIR = saved;
    await rm(dir, { recursive: true, force: true });
  });

  it("first runs racing to create it agree on one key", async () => {
    const keys = await Promise.all(Array.from({ length: 16 }, () => valuesKey({ create: true })));
    const hex = new Set(keys.map((k) => k?.toString("hex")));
    expect(hex.size).toBe(1);
    expect(`${[...hex][0]}\n`).toBe(await readFile(join(dir, "core/values.key"), "utf8"));
  });

  it("is not created when asked not to; a damaged key is a validation error naming the file", async () => {
    expect(await valuesKey({ create: false })).toBeUndefined();
    expect(existsSync(join(dir, "core/values.key"))).toBe(false);
    await valuesKey({ create: true });
    await writeFile(join(dir, "core/values.key"), "not hex\n");
    await expect(valuesKey({ create: true })).rejects.toMatchObject({ exitCode: 4, where: join(dir, "core/values.key") });
  });

  it("fingerprints: keyed, framed, order-sensitive", async () => {
    const k1 = Buffer.alloc(32, 1);
    const k2 = Buffer.alloc(32, 2);
    const fp = (key: Buffer, sets: string[]) => fingerprintValues(key, "", [], { files: [], sets });
    expect(await fp(k1, ["a=1", "b=2"])).toBe(await fp(k1, ["a=1", "b=2"]));
    expect(await fp(k1, ["a=1", "b=2"])).not.toBe(await fp(k2, ["a=1", "b=2"]));
    expect(await fp(k1, ["a=1", "b=2"])).not.toBe(await fp(k1, ["b=2", "a=1"]));
    expect(await fp(k1, ["a=1b=2"])).not.toBe(await fp(k1, ["a=1", "b=2"]));
    expect(await fingerprintValues(undefined, "", [], { files: [], sets: ["a=1"] })).not.toBe(
      await fingerprintValues(undefined, "", [], { files: [], sets: ["a=1"] }),
    );
  });
});
