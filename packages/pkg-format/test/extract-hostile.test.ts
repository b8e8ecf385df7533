import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractPackage, validatePackageArchive } from "../src/archive/extract.js";
import { inspectPackage } from "../src/archive/inspect.js";
import { IntegrityError, NotFoundError, UsageError } from "../src/errors.js";
import { cases, checksums, good, INSTALL, longNamesArchive, MANIFEST } from "./helpers/hostile-archives.js";
import { dir, file, tgz } from "./helpers/tar-builder.js";

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
    const archive = longNamesArchive();
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
