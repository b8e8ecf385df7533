/**
 * pkg-format's built modules (dist/) in a child process, the way the CLIs load them: validating an
 * archive writes nothing to TMPDIR, and SIGINT during an extraction exits 130 leaving nothing behind.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { packPackage } from "../src/archive/pack.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "..", "fixtures");

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "pkgfmt-child-"));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("validatePackageArchive", () => {
  it("writes nothing to disk (fresh TMPDIR stays empty in a child process)", async () => {
    const packed = await packPackage(join(FIXTURES, "addons", "longhorn"), join(work, "out"));
    const tmp = join(work, "tmp");
    await mkdir(tmp);
    const dist = join(import.meta.dirname, "..", "dist", "archive", "extract.js");
    const script = `
      import { validatePackageArchive } from ${JSON.stringify(dist)};
      import { readdirSync } from "node:fs";
      import { tmpdir } from "node:os";
      const before = readdirSync(tmpdir());
      const r = await validatePackageArchive(process.argv[1]);
      process.stdout.write(JSON.stringify({ tmp: tmpdir(), before, after: readdirSync(tmpdir()), extracted: r.extracted, kind: r.pkg.kind }));
    `;
    const out = JSON.parse(
      execFileSync(process.execPath, ["--input-type=module", "-e", script, packed.file], {
        env: { ...process.env, TMPDIR: tmp },
        encoding: "utf8",
      }),
    );
    expect(out).toEqual({ tmp, before: [], after: [], extracted: false, kind: "addon" });
    expect(await readdir(tmp)).toEqual([]);
  });
});

describe("interruption", () => {
  it("SIGINT during extraction exits 130 and removes the partial extraction", async () => {
    const { spawn } = await import("node:child_process");
    const dist = join(import.meta.dirname, "..", "dist", "archive", "extract.js");
    const script = `
      import { extractPackage } from ${JSON.stringify(dist)};
      import { Readable } from "node:stream";
      import { createGzip } from "node:zlib";
      const gz = createGzip();
      const chunks = [];
      gz.on("data", (c) => chunks.push(c));
      const header = Buffer.alloc(512); header.write("big.bin"); header.write("0000644\\0", 100); header.write("0000000\\0", 108); header.write("0000000\\0", 116);
      header.write("00000100000\\0", 124); header.write("00000000000\\0", 136); header.fill(0x20, 148, 156); header.write("0", 156); header.write("ustar\\0", 257); header.write("00", 263);
      let sum = 0; for (const b of header) sum += b; header.write(sum.toString(8).padStart(6, "0") + "\\0 ", 148);
      gz.write(Buffer.concat([header, Buffer.alloc(4096, 1)]));
      gz.flush(() => {
        const source = new Readable({ read() {} });
        source.push(Buffer.concat(chunks));
        setInterval(() => {}, 1000);
        extractPackage(source, { tmpDir: process.argv[1] }).catch(() => {});
        process.stdout.write("started\\n");
      });
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, work], { stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => (d.toString().includes("started") ? resolve() : undefined));
      child.on("exit", (code) => reject(new Error(`child exited early (${code})`)));
    });
    // Wait (bounded) until the private extraction directory exists and holds the partial file.
    for (let i = 0; i < 200; i++) {
      const temp = (await readdir(work)).find((n) => n.startsWith(".pk3s-extract-"));
      if (temp !== undefined && (await readdir(join(work, temp))).length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const temps = (await readdir(work)).filter((n) => n.startsWith(".pk3s-extract-"));
    expect(temps).toHaveLength(1);
    expect(await readdir(join(work, temps[0] as string))).toEqual(["big.bin"]);
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exit).toBe(130);
    expect(await readdir(work)).toEqual([]);
  });
});
