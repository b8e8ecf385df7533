/**
 * Hostile and corrupt package archives, each with the IntegrityError reason the extractor must give.
 * Shared by extract-hostile.test.ts (our reader) and node-tar-decision.test.ts (what node-tar does with them).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { ExtractLimits } from "../../src/archive/extract-limits.js";
import { dir, entry, file, gnuLong, header, pax, tar, tgz } from "./tar-builder.js";

export const MANIFEST = `apiVersion: addons.productive-k3s.io/v1
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
export const INSTALL = "#!/bin/sh\necho installing\n";
export const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
export const checksums = (files: Record<string, string | Buffer>) =>
  Object.keys(files)
    .sort()
    .map((p) => `${sha(files[p] as string)}  ${p}\n`)
    .join("");

export const good = () => [file("addon.yaml", MANIFEST), dir("scripts"), file("scripts/install.sh", INSTALL, 0o755)];

export interface Case {
  name: string;
  archive: () => Buffer;
  reason: string;
  limits?: Partial<ExtractLimits>;
  entry?: string;
}

export const cases: Case[] = [
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

/** A valid package wrapped in `pkg/`, with one GNU long name and one PAX path (both readers must parse them). */
export const LONG_GNU_PATH = `pkg/${"deep/".repeat(30)}file.txt`;
export const LONG_PAX_PATH = `pkg/${"p/".repeat(70)}pax.txt`;
export const longNamesArchive = (): Buffer =>
  tgz(
    dir("pkg"),
    file("pkg/addon.yaml", MANIFEST),
    file("pkg/scripts/install.sh", INSTALL, 0o755),
    gnuLong(LONG_GNU_PATH),
    file("pkg/placeholder-gnu", "gnu"),
    pax({ path: LONG_PAX_PATH }),
    file("pkg/placeholder-pax", "pax"),
  );
