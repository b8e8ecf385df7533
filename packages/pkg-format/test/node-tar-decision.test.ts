/**
 * Why pkg-format keeps its own tar reader and writer instead of node-tar (`tar` >= 7.5.19, a
 * devDependency used only here); the decision is in docs/design-notes.md, "Archive library: node-tar".
 *
 * Reader: node-tar's Parser in strict mode, fed by our own gunzip and with every check of ours hooked
 * in (entry types, entry-path.ts rules, the path registry, `ignoredEntry` for oversized PAX records,
 * the `eof` event for a missing end-of-archive marker) still accepts hostile archives our reader
 * rejects, and gives no hook to catch them. Writer: its Pack cannot produce our bytes.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Pack, Parser, type ReadEntry } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkEntryPath, PathRegistry } from "../src/archive/entry-path.js";
import { inspectPackage } from "../src/archive/inspect.js";
import { tarChunks } from "../src/archive/pack-stream.js";
import { IntegrityError } from "../src/errors.js";
import { cases, INSTALL, LONG_GNU_PATH, LONG_PAX_PATH, longNamesArchive, MANIFEST, sha } from "./helpers/hostile-archives.js";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "pkgfmt-node-tar-"));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

/** The most a node-tar based reader could do: strict Parser + our checks on every entry and event. */
function scanWithNodeTar(archive: Buffer, maxMetaBytes: number): Promise<{ path: string; size: number }[]> {
  const tarBytes = gunzipSync(archive); // our layer (ratio and size limits sit here too)
  return new Promise((resolve, reject) => {
    const entries: { path: string; size: number }[] = [];
    const registry = new PathRegistry();
    let sawEof = false;
    const parser = new Parser({ strict: true, maxMetaEntrySize: maxMetaBytes });
    parser.on("entry", (e: ReadEntry) => {
      const broken = (() => {
        if (e.type !== "File" && e.type !== "Directory") return `type ${e.type}`;
        const checked = checkEntryPath(e.path, e.type === "Directory");
        if ("why" in checked) return checked.reason;
        return registry.add(checked.path, e.type === "Directory" ? "dir" : "file")?.reason;
      })();
      if (broken !== undefined) reject(new Error(broken));
      entries.push({ path: e.path, size: e.size });
      e.resume();
    });
    parser.on("ignoredEntry", (e: ReadEntry) => reject(new Error(`ignored ${e.type}`)));
    parser.on("eof", () => {
      sawEof = true;
    });
    parser.on("error", reject);
    parser.on("end", () => (sawEof ? resolve(entries) : reject(new Error("no end-of-archive marker"))));
    parser.end(tarBytes);
  });
}

/** Cases about the tar stream itself (gzip, limits, layout and checksums stay our layers in any design). */
const TAR_LEVEL = cases.filter(
  (c) =>
    c.reason !== "not-gzip" &&
    c.reason !== "corrupt-gzip" &&
    c.name !== "truncated gzip" &&
    !/too-many|too-large|ratio|manifest|checksum/.test(c.reason),
);

describe("node-tar's strict Parser as our reader", () => {
  it("accepts two hostile archives ours rejects, with no hook to catch them", async () => {
    expect(TAR_LEVEL.length).toBeGreaterThanOrEqual(25);
    const accepted: string[] = [];
    for (const c of TAR_LEVEL) {
      const ok = await scanWithNodeTar(c.archive(), c.limits?.maxMetaBytes ?? 1024 * 1024).then(
        () => true,
        () => false,
      );
      if (ok) accepted.push(c.name);
    }
    // 1. A global PAX header's `path` is silently ignored (never reaches an entry or an event): the archive
    //    extracts under other names than a tool applying the header would use. Ours rejects it.
    // 2. A size field that is not octal ("99999999999") is read as size 0: the entry's data is then parsed
    //    as headers. Ours rejects the header as corrupt.
    expect(accepted).toEqual(["global PAX path override", "non-octal size field"]);
    for (const name of accepted) {
      const c = cases.find((x) => x.name === name);
      const file = join(work, "case.tgz");
      await writeFile(file, c?.archive() ?? Buffer.alloc(0));
      const ours = await inspectPackage(file).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(ours).toBeInstanceOf(IntegrityError);
      expect((ours as IntegrityError).reason).toBe(c?.reason);
    }
    const nonOctal = cases.find((x) => x.name === "non-octal size field");
    expect(await scanWithNodeTar(nonOctal?.archive() ?? Buffer.alloc(0), 1024 * 1024)).toContainEqual({ path: "odd.txt", size: 0 });
  });

  it("parses what ours parses: PAX and GNU long names", async () => {
    const paths = (await scanWithNodeTar(longNamesArchive(), 1024 * 1024)).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining([LONG_GNU_PATH, LONG_PAX_PATH]));
  });
});

async function nodeTarPack(cwd: string, paths: string[]): Promise<Buffer> {
  const pack = new Pack({ cwd, portable: true, mtime: new Date(0), noDirRecurse: true });
  const chunks: Buffer[] = [];
  pack.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve) => pack.on("end", () => resolve()));
  for (const p of paths) pack.add(p);
  pack.end();
  await done;
  return Buffer.concat(chunks);
}

describe("node-tar's Pack as our writer", () => {
  it("cannot write our deterministic bytes (numeric fields, uid/gid, directory mtimes, PAX for non-ASCII names)", async () => {
    const src = join(work, "src");
    await mkdir(join(src, "scripts"), { recursive: true });
    await writeFile(join(src, "addon.yaml"), MANIFEST, { mode: 0o644 });
    await writeFile(join(src, "scripts", "install.sh"), INSTALL, { mode: 0o755 });
    await writeFile(join(src, "ünï.md"), "x\n", { mode: 0o644 });
    const theirs = await nodeTarPack(src, ["addon.yaml", "scripts", "scripts/install.sh", "ünï.md"]);
    const oursChunks: Buffer[] = [];
    for await (const c of tarChunks(
      [
        { type: "file", path: "addon.yaml", abs: join(src, "addon.yaml"), size: MANIFEST.length, mode: 0o644, sha256: sha(MANIFEST) },
        { type: "directory", path: "scripts", mode: 0o755 },
        {
          type: "file",
          path: "scripts/install.sh",
          abs: join(src, "scripts", "install.sh"),
          size: INSTALL.length,
          mode: 0o755,
          sha256: sha(INSTALL),
        },
        { type: "file", path: "ünï.md", abs: join(src, "ünï.md"), size: 2, mode: 0o644, sha256: sha("x\n") },
      ],
      { mtime: 0 },
    ))
      oursChunks.push(c);
    const ours = Buffer.concat(oursChunks);
    expect(theirs.equals(ours)).toBe(false);
    const field = (b: Buffer, block: number, off: number, len: number) =>
      b.subarray(block * 512 + off, block * 512 + off + len).toString("latin1");
    // addon.yaml's header, block 0 in both: mode, uid, gid.
    expect(field(ours, 0, 100, 8)).toBe("0000644\0");
    expect(field(theirs, 0, 100, 8)).toBe("000644 \0");
    expect(field(ours, 0, 108, 8)).toBe("0000000\0");
    expect(field(theirs, 0, 108, 8)).toBe("\0".repeat(8));
    // scripts/ (after addon.yaml's one data block): our directories carry the mtime, node-tar's portable ones none.
    expect(field(ours, 2, 0, 8)).toBe("scripts/");
    expect(field(ours, 2, 136, 12)).toBe("00000000000\0");
    expect(field(theirs, 2, 136, 12)).toBe("\0".repeat(12));
    // A non-ASCII name: node-tar always adds a PAX header (with an mtime record); ours fits it in ustar.
    expect(theirs.includes(Buffer.from("PaxHeader/"))).toBe(true);
    expect(theirs.includes(Buffer.from(" mtime="))).toBe(true);
    expect(ours.includes(Buffer.from("PaxHeader/"))).toBe(false);
  });
});
