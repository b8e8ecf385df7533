/**
 * Issue 11 item 9 at the library level: the packer applies the extractor's path rules (entry-path.ts)
 * and refuses, with a ValidationError (exit 4) naming the file, every source the extractor would
 * reject; and the extractor rejects the same names when an archive carries them.
 */
import { open, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BAD_NAME_CASES, writeBadNameCase } from "../../../fixtures/bad-names.js";
import { checkEntryPath, PathRegistry } from "../src/archive/entry-path.js";
import { inspectPackage } from "../src/archive/inspect.js";
import { packPackage } from "../src/archive/pack.js";
import { ExitCode, IntegrityError, ValidationError } from "../src/errors.js";
import { ADDON_TREE, tempDir, writeTree } from "./helpers/source-tree.js";
import { entry, tgz } from "./helpers/tar-builder.js";

/** A valid add-on source with a docs/ folder for the odd names. */
const TREE = { ...ADDON_TREE, "docs/README.md": "docs\n" };
let work: string;
beforeEach(async () => {
  work = await tempDir();
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function packRefusal(src: string): Promise<ValidationError> {
  const err = await packPackage(src, join(work, "out")).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).exitCode).toBe(ExitCode.validation);
  // Nothing written.
  expect(await readdir(join(work, "out")).catch(() => [])).toEqual([]);
  return err as ValidationError;
}

describe("the packer refuses what the extractor rejects", () => {
  for (const c of BAD_NAME_CASES) {
    it(c.name, async () => {
      const src = await writeTree(join(work, "src"), TREE);
      await writeBadNameCase(src, "docs", c);
      const err = await packRefusal(src);
      const problem = err.problems.find((p) => p.path === `docs/${c.bad}`);
      expect(problem, JSON.stringify(err.problems)).toBeDefined();
      expect(problem?.file).toBe(join(src, "docs", c.bad));
      expect(problem?.message).toContain(c.says);
    });
  }

  it("a source file whose name folds onto the generated checksums.sha256", async () => {
    const src = await writeTree(join(work, "src"), { ...TREE, "CHECKSUMS.SHA256": "x\n" });
    const err = await packRefusal(src);
    expect(err.problems).toContainEqual(
      expect.objectContaining({
        path: "CHECKSUMS.SHA256",
        message: expect.stringContaining('differs from "checksums.sha256" only by letter case'),
      }),
    );
  });

  it("a file name that is not valid UTF-8", async () => {
    const src = await writeTree(join(work, "src"), TREE);
    await writeFile(Buffer.concat([Buffer.from(join(src, "docs/")), Buffer.from([0x61, 0xff, 0x62])]), "x");
    const err = await packRefusal(src);
    expect(err.problems).toContainEqual(
      expect.objectContaining({ path: "docs/a\uFFFDb", message: expect.stringContaining("not valid UTF-8") }),
    );
  });

  it("a symbolic link (as before)", async () => {
    const src = await writeTree(join(work, "src"), TREE);
    await symlink("../addon.yaml", join(src, "docs", "link.yaml"));
    const err = await packRefusal(src);
    expect(err.problems).toContainEqual(
      expect.objectContaining({ path: "docs/link.yaml", message: expect.stringContaining("symbolic link") }),
    );
  });

  it("a file over the extractor's per-file limit (a sparse 2 GiB + 1 file)", async () => {
    const src = await writeTree(join(work, "src"), TREE);
    const handle = await open(join(src, "docs", "big.bin"), "w");
    await handle.truncate(2 * 1024 ** 3 + 1);
    await handle.close();
    const err = await packRefusal(src);
    expect(err.problems).toContainEqual(
      expect.objectContaining({ path: "docs/big.bin", message: expect.stringContaining("over the extractor's 2147483648-byte limit") }),
    );
  });

  it("files so compressible that the archive reads as a gzip bomb (the ratio rule, checked on the packed bytes)", async () => {
    const src = await writeTree(join(work, "src"), TREE);
    await writeFile(join(src, "docs", "zeros.bin"), Buffer.alloc(8 * 1024 * 1024));
    const err = await packRefusal(src);
    expect(err.problems).toEqual([
      {
        file: src,
        message: expect.stringMatching(
          /^the packed archive would be refused by every consumer: decompression ratio exceeds 200:1 \(\d+ bytes from \d+\)/,
        ),
        severity: "error",
      },
    ]);
    expect(err.hint).toBe("exclude the file in .pk3signore or ship it compressed");
    // Under the ratio (the grace allows small, very compressible packages) it packs and reads back.
    await writeFile(join(src, "docs", "zeros.bin"), Buffer.alloc(512 * 1024));
    const r = await packPackage(src, join(work, "out"));
    expect((await inspectPackage(r.file)).files.map((f) => f.path)).toContain("docs/zeros.bin");
  });

  it("a name that is not the problem is left alone (a space, non-ASCII letters)", async () => {
    const src = await writeTree(join(work, "src"), { ...TREE, "docs/read me – ünïcode.md": "ok\n" });
    const r = await packPackage(src, join(work, "out"));
    expect(r.files).toContain("docs/read me – ünïcode.md");
    expect((await inspectPackage(r.file)).files.map((f) => f.path)).toContain("docs/read me – ünïcode.md");
  });
});

describe("the extractor rejects the same names (one rule set)", () => {
  const manifest = ADDON_TREE["addon.yaml"] as string;
  for (const c of BAD_NAME_CASES) {
    it(c.name, async () => {
      const archive = tgz(entry({ name: "addon.yaml" }, manifest), ...c.files.map((f) => entry({ name: `docs/${f}` }, "x")));
      const file = join(work, "bad.tgz");
      await writeFile(file, archive);
      const err = await inspectPackage(file).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as IntegrityError).message).toContain(c.says);
    });
  }

  it("checkEntryPath and PathRegistry are what both sides call", () => {
    expect(checkEntryPath("a/./b//c", false)).toEqual({ path: "a/b/c" });
    expect(checkEntryPath("a\nb", false)).toEqual({ reason: "invalid-path", why: "contains a newline" });
    const registry = new PathRegistry();
    expect(registry.add("Docs/x", "file")).toBeUndefined();
    expect(registry.add("docs/y", "file")).toEqual({ reason: "case-collision", why: 'differs from "Docs" only by letter case' });
  });
});
