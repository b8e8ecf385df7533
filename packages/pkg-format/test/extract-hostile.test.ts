import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractPackage, validatePackageArchive } from "../src/archive/extract.js";
import type { ExtractLimits } from "../src/archive/extract-limits.js";
import { inspectPackage } from "../src/archive/inspect.js";
import { IntegrityError, NotFoundError, UsageError } from "../src/errors.js";
import { dir, entry, file, gnuLong, header, pax, tar, tgz } from "./helpers/tar-builder.js";

const MANIFEST = `apiVersion: addons.productive-k3s.io/v1
kind: Addon
metadata:
  name: demo
  version: 1.0.0
  category: example
spec:
  type: shell
  install:
    script: scripts/install.sh
`;
const INSTALL = "#!/bin/sh\necho installing\n";
const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
const checksums = (files: Record<string, string | Buffer>) =>
  Object.keys(files)
    .sort()
    .map((p) => `${sha(files[p] as string)}  ${p}\n`)
    .join("");

const good = () => [file("addon.yaml", MANIFEST), dir("scripts"), file("scripts/install.sh", INSTALL, 0o755)];

interface Case {
  name: string;
  archive: () => Buffer;
  reason: string;
  limits?: Partial<ExtractLimits>;
  entry?: string;
}

const cases: Case[] = [
  { name: "absolute path", archive: () => tgz(...good(), file("/etc/evil", "x")), reason: "absolute-path", entry: "/etc/evil" },
  { name: "'..' path", archive: () => tgz(...good(), file("../evil", "x")), reason: "path-traversal", entry: "../evil" },
  { name: "'..' in the middle", archive: () => tgz(...good(), file("scripts/../../evil", "x")), reason: "path-traversal" },
  { name: "windows drive path", archive: () => tgz(...good(), file("C:/evil", "x")), reason: "absolute-path" },
  { name: "backslash name", archive: () => tgz(...good(), file("..\\evil", "x")), reason: "invalid-path" },
  {
    name: "symlink",
    archive: () => tgz(...good(), entry({ name: "link", type: "2", linkname: "/etc/passwd" })),
    reason: "symlink",
    entry: "link",
  },
  {
    name: "symlink then a file written through it",
    archive: () => tgz(...good(), entry({ name: "escape", type: "2", linkname: "/tmp" }), file("escape/pwned", "x")),
    reason: "symlink",
    entry: "escape",
  },
  { name: "hardlink", archive: () => tgz(...good(), entry({ name: "hard", type: "1", linkname: "addon.yaml" })), reason: "hardlink" },
  { name: "character device", archive: () => tgz(...good(), entry({ name: "null", type: "3" })), reason: "device" },
  { name: "block device", archive: () => tgz(...good(), entry({ name: "sda", type: "4" })), reason: "device" },
  { name: "FIFO", archive: () => tgz(...good(), entry({ name: "fifo", type: "6" })), reason: "fifo" },
  {
    name: "sparse file (unsupported type)",
    archive: () => tgz(...good(), entry({ name: "sparse", type: "S" })),
    reason: "unsupported-entry-type",
  },
  {
    name: "PAX path override to '..' (benign ustar name)",
    archive: () => tgz(...good(), pax({ path: "../../pax-evil" }), file("benign.txt", "x")),
    reason: "path-traversal",
    entry: "../../pax-evil",
  },
  {
    name: "PAX path override to an absolute path",
    archive: () => tgz(...good(), pax({ path: "/etc/cron.d/evil" }), file("benign.txt", "x")),
    reason: "absolute-path",
  },
  {
    name: "global PAX path override",
    archive: () => tgz(pax({ path: "/abs/global" }, "g"), ...good()),
    reason: "absolute-path",
  },
  {
    name: "GNU long name to '..'",
    archive: () =>
      tgz(
        ...good(),
        gnuLong(
          `${"a/".repeat(60)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../evil`,
        ),
        file("benign.txt", "x"),
      ),
    reason: "path-traversal",
  },
  {
    name: "GNU long link name on a symlink",
    archive: () => tgz(...good(), gnuLong("/".repeat(120), "K"), entry({ name: "l", type: "2", linkname: "x" })),
    reason: "symlink",
  },
  {
    name: "PAX record larger than maxMetaBytes",
    archive: () => tgz(...good(), pax({ comment: "x".repeat(5000) }), file("benign.txt", "x")),
    reason: "meta-too-large",
    limits: { maxMetaBytes: 1024 },
  },
  {
    name: "gzip bomb (decompression ratio)",
    archive: () => tgz(...good(), file("zeros.bin", Buffer.alloc(24 * 1024 * 1024))),
    reason: "ratio-exceeded",
  },
  {
    name: "entry-count bomb",
    archive: () => tgz(...good(), ...Array.from({ length: 60 }, (_, i) => file(`f/${i}`, ""))),
    reason: "too-many-entries",
    limits: { maxEntries: 50 },
  },
  {
    name: "file over maxFileBytes",
    archive: () => tgz(...good(), file("big.bin", Buffer.alloc(4096, 1))),
    reason: "file-too-large",
    limits: { maxFileBytes: 4000 },
  },
  {
    name: "total over maxTotalBytes",
    archive: () => tgz(...good(), ...Array.from({ length: 5 }, (_, i) => file(`d/${i}`, Buffer.alloc(1000, 2)))),
    reason: "total-too-large",
    limits: { maxTotalBytes: 4000 },
  },
  {
    name: "manifest present twice",
    archive: () => tgz(...good(), file("addon.yaml", MANIFEST)),
    reason: "duplicate-entry",
    entry: "addon.yaml",
  },
  {
    name: "manifest in two different directories",
    archive: () =>
      tgz(
        file("a/addon.yaml", MANIFEST),
        file("a/scripts/install.sh", INSTALL),
        file("b/addon.yaml", MANIFEST),
        file("b/scripts/install.sh", INSTALL),
      ),
    reason: "no-manifest",
  },
  {
    name: "addon.yaml and profile.yaml",
    archive: () => tgz(...good(), file("profile.yaml", "kind: Profile\n")),
    reason: "multiple-manifests",
  },
  { name: "no manifest", archive: () => tgz(file("README.md", "hi")), reason: "no-manifest" },
  { name: "duplicate regular file", archive: () => tgz(...good(), file("x.txt", "1"), file("x.txt", "2")), reason: "duplicate-entry" },
  {
    name: "case collision",
    archive: () => tgz(...good(), file("README.md", "1"), file("readme.md", "2")),
    reason: "case-collision",
    entry: "readme.md",
  },
  {
    name: "case collision through a directory",
    archive: () => tgz(...good(), file("Docs/a.md", "1"), file("docs/b.md", "2")),
    reason: "case-collision",
  },
  {
    name: "NFC/NFD collision",
    archive: () => tgz(...good(), file("caf\u00e9.txt", "1"), file("cafe\u0301.txt", "2")),
    reason: "unicode-collision",
  },
  { name: "file used as a directory", archive: () => tgz(...good(), file("x", "1"), file("x/y", "2")), reason: "path-conflict" },
  {
    name: "truncated gzip",
    archive: () => {
      const full = tgz(...good(), file("data.bin", Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7919) % 251))));
      return full.subarray(0, Math.floor(full.length / 2));
    },
    reason: "truncated",
  },
  {
    name: "truncated tar inside a complete gzip",
    archive: () => gzipSync(Buffer.concat([...good(), header({ name: "cut.bin", size: 5000 }), Buffer.alloc(1000, 3)])),
    reason: "truncated",
  },
  { name: "tar without end-of-archive marker", archive: () => gzipSync(Buffer.concat(good())), reason: "truncated" },
  { name: "non-gzip input (plain tar)", archive: () => tar(...good()), reason: "not-gzip" },
  { name: "empty input", archive: () => Buffer.alloc(0), reason: "not-gzip" },
  {
    name: "corrupt gzip data",
    archive: () => {
      const b = Buffer.from(tgz(...good(), file("n.txt", "some text ".repeat(500))));
      for (let i = 20; i < b.length - 10; i += 7) b[i] = (b[i] as number) ^ 0x5a;
      return b;
    },
    reason: "corrupt-gzip",
  },
  {
    name: "PAX size override beyond the data",
    archive: () => gzipSync(Buffer.concat([...good(), pax({ size: "100000" }), file("short.txt", "abc"), Buffer.alloc(1024)])),
    reason: "truncated",
  },
  {
    name: "non-octal size field",
    archive: () => {
      const h = header({ name: "odd.txt", size: 1 });
      h.write("99999999999\0", 124, "latin1");
      let sum = 0;
      h.fill(0x20, 148, 156);
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
      return tgz(...good(), h, Buffer.alloc(512));
    },
    reason: "corrupt-tar",
  },
  { name: "bad tar header checksum", archive: () => tgz(...good(), entry({ name: "bad", badChecksum: true }, "x")), reason: "corrupt-tar" },
  {
    name: "checksum mismatch",
    archive: () => tgz(...good(), file("checksums.sha256", checksums({ "addon.yaml": MANIFEST, "scripts/install.sh": "tampered" }))),
    reason: "checksum-mismatch",
    entry: "scripts/install.sh",
  },
  {
    name: "file not listed in checksums.sha256",
    archive: () =>
      tgz(
        ...good(),
        file("extra.txt", "x"),
        file("checksums.sha256", checksums({ "addon.yaml": MANIFEST, "scripts/install.sh": INSTALL })),
      ),
    reason: "checksum-unlisted-file",
    entry: "extra.txt",
  },
  {
    name: "checksums.sha256 lists a missing file",
    archive: () =>
      tgz(...good(), file("checksums.sha256", checksums({ "addon.yaml": MANIFEST, "scripts/install.sh": INSTALL, "gone.txt": "x" }))),
    reason: "checksum-missing-file",
    entry: "gone.txt",
  },
  {
    name: "malformed checksums.sha256",
    archive: () => tgz(...good(), file("checksums.sha256", "not a checksum line\n")),
    reason: "checksums-malformed",
  },
];

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "pkgfmt-hostile-"));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("hostile archives are rejected, nothing is left behind", () => {
  it("has at least 25 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  for (const c of cases) {
    it(`${c.name} -> IntegrityError(${c.reason})`, async () => {
      const parent = join(work, "parent");
      await writeFile(join(work, "pkg.tgz"), c.archive());
      await import("node:fs/promises").then((fs) => fs.mkdir(parent));
      await writeFile(join(parent, "existing.txt"), "keep");
      const before = await readdir(parent);
      const destination = join(parent, "dest");
      const err = await extractPackage(join(work, "pkg.tgz"), { destination, limits: c.limits }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(IntegrityError);
      const ie = err as IntegrityError;
      expect(ie.reason).toBe(c.reason);
      expect(ie.exitCode).toBe(6);
      if (c.entry !== undefined) expect(ie.entry).toBe(c.entry);
      expect(ie.where).toBe(join(work, "pkg.tgz"));
      expect(ie.toJSON()).toMatchObject({ code: "E_INTEGRITY", exitCode: 6, reason: c.reason });
      expect(await readdir(parent)).toEqual(before);
      // Same verdict from a stream, with no destination: nothing new in the temp parent either.
      const tmpParent = join(work, "tmp");
      await import("node:fs/promises").then((fs) => fs.mkdir(tmpParent));
      const err2 = await extractPackage(Readable.from([c.archive()]), { tmpDir: tmpParent, limits: c.limits }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err2 as IntegrityError).reason).toBe(c.reason);
      expect(await readdir(tmpParent)).toEqual([]);
      // inspect applies the same rules without writing anything.
      const err3 = await inspectPackage(join(work, "pkg.tgz"), { limits: c.limits }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err3 as IntegrityError).reason).toBe(c.reason);
      // validatePackageArchive too, with the same error, writing nothing (its fallback would use tmpParent).
      const err4 = await validatePackageArchive(join(work, "pkg.tgz"), { limits: c.limits, tmpDir: tmpParent }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err4).toBeInstanceOf(IntegrityError);
      expect((err4 as IntegrityError).toJSON()).toEqual(ie.toJSON());
      expect(await readdir(tmpParent)).toEqual([]);
    });
  }
});

describe("accepted archives", () => {
  it("never applies setuid, setgid or sticky bits", async () => {
    const archive = tgz(
      file("addon.yaml", MANIFEST),
      dir("scripts", 0o1777),
      file("scripts/install.sh", INSTALL, 0o4755),
      file("scripts/g.sh", INSTALL, 0o2775),
      file("plain.txt", "x", 0o4600),
    );
    const out = await extractPackage(Readable.from([archive]), { tmpDir: work });
    expect((await stat(join(out.root, "scripts/install.sh"))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(out.root, "scripts/g.sh"))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(out.root, "plain.txt"))).mode & 0o7777).toBe(0o644);
    expect((await stat(join(out.root, "scripts"))).mode & 0o7777).toBe(0o755);
    expect((await stat(out.dir)).mode & 0o777).toBe(0o700);
    await out.cleanup();
  });

  it("accepts a single top-level directory wrapper, PAX and GNU long names", async () => {
    const long = `pkg/${"deep/".repeat(30)}file.txt`;
    const archive = tgz(
      dir("pkg"),
      file("pkg/addon.yaml", MANIFEST),
      file("pkg/scripts/install.sh", INSTALL, 0o755),
      gnuLong(long),
      file("pkg/placeholder-gnu", "gnu"),
      pax({ path: `pkg/${"p/".repeat(70)}pax.txt` }),
      file("pkg/placeholder-pax", "pax"),
    );
    const destination = join(work, "dest");
    const out = await extractPackage(Readable.from([archive]), { destination });
    expect(out.dir).toBe(destination);
    expect(out.root).toBe(join(destination, "pkg"));
    expect(out.kind).toBe("addon");
    expect(out.files).toContain(`${"deep/".repeat(30)}file.txt`);
    expect(await readFile(join(out.root, `${"p/".repeat(70)}pax.txt`), "utf8")).toBe("pax");
    expect(await readFile(join(out.root, `${"deep/".repeat(30)}file.txt`), "utf8")).toBe("gnu");
    expect(out.checksumsVerified).toBe(false);
  });

  it("accepts an archive with a leading ./ entry (tar -C dir .) and verifies correct checksums", async () => {
    const files = { "addon.yaml": MANIFEST, "scripts/install.sh": INSTALL };
    const archive = tgz(
      dir("."),
      file("./addon.yaml", MANIFEST),
      file("./scripts/install.sh", INSTALL),
      file("./checksums.sha256", checksums(files)),
    );
    const out = await extractPackage(Readable.from([archive]), { tmpDir: work });
    expect(out.root).toBe(out.dir);
    expect(out.checksumsVerified).toBe(true);
    expect(out.files).toEqual(["addon.yaml", "checksums.sha256", "scripts/install.sh"]);
  });

  it("refuses a destination that exists and is not empty (UsageError), and a missing parent (NotFoundError)", async () => {
    const archive = tgz(...good());
    await writeFile(join(work, "occupied"), "x");
    await expect(extractPackage(Readable.from([archive]), { destination: join(work, "occupied") })).rejects.toBeInstanceOf(UsageError);
    await expect(extractPackage(Readable.from([archive]), { destination: join(work, "no/such/dest") })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("reports a missing package file as NotFoundError (exit 3)", async () => {
    const err = await extractPackage(join(work, "missing.tgz"), { tmpDir: work }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).exitCode).toBe(3);
    expect(await readdir(work)).toEqual([]);
  });
});
