import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chown, cp, mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { COMPAT_DIR } from "../../../fixtures/compat-dir.js";
import { extractPackage, openPackage } from "../src/archive/extract.js";
import { IgnoreRules } from "../src/archive/ignore-rules.js";
import { inspectPackage } from "../src/archive/inspect.js";
import { packPackage } from "../src/archive/pack.js";
import { loadPackageDir } from "../src/archive/package-validate.js";
import { ValidationError } from "../src/errors.js";
import { ADDON_TREE, PROFILE_TREE, tempDir, writeTree } from "./helpers/source-tree.js";

let work: string;
beforeEach(async () => {
  work = await tempDir();
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("packPackage", () => {
  it("is deterministic across mtimes, owners and umask", async () => {
    const a = join(work, "a");
    const b = join(work, "b");
    await writeTree(a, ADDON_TREE);
    const oldUmask = process.umask(0o077);
    try {
      await writeTree(b, ADDON_TREE);
    } finally {
      process.umask(oldUmask);
    }
    for (const [root, time, owner] of [
      [a, new Date("2001-02-03T04:05:06Z"), 0],
      [b, new Date("2024-06-07T08:09:10Z"), 4242],
    ] as const) {
      for (const f of Object.keys(ADDON_TREE)) {
        await utimes(join(root, f), time, time);
        if (process.getuid?.() === 0) await chown(join(root, f), owner, owner);
      }
    }
    const ra = await packPackage(a, join(work, "out-a"), { sourceDateEpoch: 0 });
    const rb = await packPackage(b, join(work, "out-b"), { sourceDateEpoch: 0 });
    expect(ra.file).toBe(join(work, "out-a", "demo-1.2.3.tgz"));
    expect(ra.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(rb.digest).toBe(ra.digest);
    expect(Buffer.compare(await readFile(ra.file), await readFile(rb.file))).toBe(0);
    expect(ra.size).toBe((await stat(ra.file)).size);
    expect(await readdir(join(work, "out-a"))).toEqual(["demo-1.2.3.tgz"]);
  });

  it("writes normalised, sorted entries with checksums.sha256 (checked with GNU tar)", async () => {
    await writeTree(work, { ...ADDON_TREE, ".git/HEAD": "ref", "notes.swp": "x", "build/tmp.o": "x", ".pk3signore": "build/\n" });
    await chown(join(work, "README.md"), 1234, 1234).catch(() => undefined);
    const r = await packPackage(work, join(work, "..", `out-${process.pid}`), { sourceDateEpoch: 1700000000 });
    try {
      const listing = execFileSync("tar", ["-tvzf", r.file, "--numeric-owner", "--full-time"], { encoding: "utf8" }).trim().split("\n");
      expect(listing).toEqual([
        "-rw-r--r-- 0/0               7 2023-11-14 22:13:20 README.md",
        "-rw-r--r-- 0/0             299 2023-11-14 22:13:20 addon.yaml",
        "drwxr-xr-x 0/0               0 2023-11-14 22:13:20 charts/",
        "drwxr-xr-x 0/0               0 2023-11-14 22:13:20 charts/demo/",
        "-rw-r--r-- 0/0              41 2023-11-14 22:13:20 charts/demo/Chart.yaml",
        "drwxr-xr-x 0/0               0 2023-11-14 22:13:20 charts/demo/templates/",
        "-rw-r--r-- 0/0              16 2023-11-14 22:13:20 charts/demo/templates/cm.yaml",
        "-rw-r--r-- 0/0             582 2023-11-14 22:13:20 checksums.sha256",
        "drwxr-xr-x 0/0               0 2023-11-14 22:13:20 scripts/",
        "-rwxr-xr-x 0/0              23 2023-11-14 22:13:20 scripts/install.sh",
        "-rwxr-xr-x 0/0              19 2023-11-14 22:13:20 scripts/pre.sh",
        "-rw-r--r-- 0/0              12 2023-11-14 22:13:20 values.yaml",
      ]);
      const sums = execFileSync("tar", ["-xzOf", r.file, "checksums.sha256"], { encoding: "utf8" });
      expect(sums.split("\n")[0]).toMatch(/^[0-9a-f]{64} {2}README\.md$/);
      expect(r.files).toContain("checksums.sha256");
    } finally {
      await rm(join(work, "..", `out-${process.pid}`), { recursive: true, force: true });
    }
  });

  it("uses SOURCE_DATE_EPOCH when no option is given", async () => {
    await writeTree(join(work, "src"), ADDON_TREE);
    const old = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = "86400";
    try {
      const r = await packPackage(join(work, "src"), join(work, "out"));
      const line = execFileSync("tar", ["-tvzf", r.file, "--full-time", "addon.yaml"], { encoding: "utf8" });
      expect(line).toContain("1970-01-02 00:00:00");
    } finally {
      if (old === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = old;
    }
  });

  it("round trip: pack -> inspect -> extract -> loadPackageDir", async () => {
    await writeTree(join(work, "src"), PROFILE_TREE);
    const r = await packPackage(join(work, "src"), join(work, "out"));
    expect(r).toMatchObject({ kind: "profile", name: "multipass-basic", version: "1.0.0" });
    const info = await inspectPackage(r.file);
    expect(info).toMatchObject({ kind: "profile", name: "multipass-basic", digest: r.digest, size: r.size, checksumsVerified: true });
    expect(info.files.map((f) => `${f.path}:${f.mode.toString(8)}`)).toEqual([
      "checksums.sha256:644",
      "profile.env:644",
      "profile.yaml:644",
      "scenario/install.sh:755",
      "scenario/playbook.yml:644",
    ]);
    const opened = await openPackage(r.file, { expectedDigest: r.digest });
    expect(opened.pkg.kind).toBe("profile");
    expect(opened.pkg.env).toEqual({ CLUSTER_NAME: "demo", DOMAIN: "demo.lab" });
    expect(await readFile(join(opened.root, "scenario/install.sh"), "utf8")).toBe("#!/bin/sh\n");
    await opened.cleanup();
    expect(existsSync(opened.dir)).toBe(false);
    await expect(openPackage(r.file, { expectedDigest: `sha256:${"0".repeat(64)}` })).rejects.toMatchObject({
      reason: "digest-mismatch",
      exitCode: 6,
    });
  });

  it("handles paths longer than 100 bytes (PAX) and round-trips them", async () => {
    const long = `docs/${"very-long-directory-name/".repeat(8)}${"n".repeat(120)}.md`;
    await writeTree(join(work, "src"), { ...ADDON_TREE, [long]: "deep" });
    const r = await packPackage(join(work, "src"), join(work, "out"));
    const out = await extractPackage(r.file, { tmpDir: work });
    expect(await readFile(join(out.root, long), "utf8")).toBe("deep");
    expect(execFileSync("tar", ["-tzf", r.file], { encoding: "utf8" })).toContain(long);
    await out.cleanup();
  });

  it("extracts an archive made by GNU tar (./ prefix, owner names, mtimes)", async () => {
    await writeTree(join(work, "src"), ADDON_TREE);
    execFileSync("tar", ["-czf", join(work, "gnu.tgz"), "-C", join(work, "src"), "."]);
    const opened = await openPackage(join(work, "gnu.tgz"), { tmpDir: work });
    expect(opened.pkg.kind).toBe("addon");
    expect(opened.files).toContain("scripts/install.sh");
    expect(opened.checksumsVerified).toBe(false);
    await opened.cleanup();
  });

  it("never packs its own output directory when it sits inside the source", async () => {
    await writeTree(join(work, "src"), ADDON_TREE);
    const first = await packPackage(join(work, "src"), join(work, "src", "dist"));
    const second = await packPackage(join(work, "src"), join(work, "src", "dist"));
    expect(second.digest).toBe(first.digest);
    expect(second.files.some((f) => f.startsWith("dist/"))).toBe(false);
  });

  it("refuses an invalid package and writes nothing", async () => {
    const tree = { ...ADDON_TREE };
    delete tree["scripts/install.sh"];
    await writeTree(join(work, "src"), tree);
    await expect(packPackage(join(work, "src"), join(work, "out"))).rejects.toBeInstanceOf(ValidationError);
    expect(existsSync(join(work, "out"))).toBe(false);
  });

  it("refuses symlinks and references excluded by .pk3signore", async () => {
    await writeTree(join(work, "src"), { ...ADDON_TREE, ".pk3signore": "# no hooks\nscripts/pre.sh\n" });
    await symlink("/etc/passwd", join(work, "src", "passwd"));
    const err = (await packPackage(join(work, "src"), join(work, "out")).catch((e: unknown) => e)) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.problems.map((p) => p.message)).toEqual([
      "passwd is a symbolic link; packages may only contain regular files and directories (exclude it in .pk3signore or replace it with a copy)",
      "scripts/pre.sh is referenced by the manifest but excluded from the package (.pk3signore or a built-in exclude)",
    ]);
    expect(existsSync(join(work, "out"))).toBe(false);
  });

  it("streams: packs a 64 MiB file and extracts it intact", async () => {
    await writeTree(join(work, "src"), ADDON_TREE);
    const big = randomBytes(64 * 1024 * 1024);
    await writeFile(join(work, "src", "big.bin"), big);
    const r = await packPackage(join(work, "src"), join(work, "out"));
    const out = await extractPackage(r.file, { tmpDir: work });
    expect((await stat(join(out.root, "big.bin"))).size).toBe(big.length);
    expect(Buffer.compare(await readFile(join(out.root, "big.bin")), big)).toBe(0);
    await out.cleanup();
  });
});

describe("IgnoreRules (.pk3signore)", () => {
  const rules = IgnoreRules.parse(["*.log", "!keep.log", "/build/", "docs/**/draft-*.md", "\\#hash", "tmp", ""].join("\n"));
  const cases: [string, boolean, boolean][] = [
    ["a.log", false, true],
    ["sub/b.log", false, true],
    ["keep.log", false, false],
    ["build", true, true],
    ["sub/build", true, false],
    ["docs/x/y/draft-1.md", false, true],
    ["docs/draft-1.md", false, true],
    ["docs/final.md", false, false],
    ["#hash", false, true],
    ["x/tmp", false, true],
    ["x/tmp", true, true],
    [".git", true, true],
    ["node_modules", true, true],
    ["a/file~", false, true],
    [".pk3signore", false, true],
    ["checksums.sha256", false, true],
    ["sub/checksums.sha256", false, false],
    ["addon.yaml", false, false],
  ];
  for (const [path, isDir, expected] of cases) {
    it(`${path}${isDir ? "/" : ""} ${expected ? "is" : "is not"} ignored`, () => expect(rules.ignores(path, isDir)).toBe(expected));
  }
  it("can re-include a built-in exclude", () => expect(IgnoreRules.parse("!node_modules/\n").ignores("node_modules", true)).toBe(false));
});

describe("compat add-ons and repository fixtures pack and validate", () => {
  const compat = readdirSync(join(COMPAT_DIR, "addons")).filter((f) => f.endsWith(".addon.yaml"));
  for (const f of compat) {
    it(`packs compat/addons/${f} with its scripts`, async () => {
      const manifest = readFileSync(join(COMPAT_DIR, "addons", f), "utf8");
      const tree: Record<string, string | { content: string; mode: number }> = { "addon.yaml": manifest };
      for (const step of ["install", "configure", "validate", "clean", "backup"])
        tree[`scripts/${step}.sh`] = { content: "#!/bin/sh\n", mode: 0o755 };
      await writeTree(join(work, "src"), tree);
      const r = await packPackage(join(work, "src"), join(work, "out"));
      const opened = await openPackage(r.file, { strict: true });
      expect(opened.pkg.manifest.metadata.name).toBe(f.replace(".addon.yaml", ""));
      await opened.cleanup();
    });
  }

  for (const kind of ["addons", "profiles"]) {
    const base = join(import.meta.dirname, "..", "..", "..", "fixtures", kind);
    const dirs = existsSync(base)
      ? readdirSync(base).filter((d) => existsSync(join(base, d, kind === "addons" ? "addon.yaml" : "profile.yaml")))
      : [];
    it.skipIf(dirs.length === 0)(`round-trips every fixtures/${kind} source (${dirs.length})`, async () => {
      for (const d of dirs) {
        const copy = join(work, kind, d);
        await mkdir(copy, { recursive: true });
        await cp(join(base, d), copy, { recursive: true });
        const r = await packPackage(copy, join(work, "out", kind));
        const info = await inspectPackage(r.file);
        expect(info.digest).toBe(r.digest);
        const out = await extractPackage(r.file, { tmpDir: work });
        const pkg = await loadPackageDir(out.root);
        expect(pkg.manifest.metadata.name).toBe(r.name);
        await out.cleanup();
      }
    });
  }
});

describe("packPackage with a version override (release builds)", () => {
  it("writes the version into the packed manifest only, with checksums that still verify", async () => {
    const src = join(work, "src");
    await writeTree(src, ADDON_TREE);
    const before = await readFile(join(src, "addon.yaml"), "utf8");
    const packed = await packPackage(src, join(work, "out"), { version: "9.8.7-rc.1" });
    expect(packed.version).toBe("9.8.7-rc.1");
    expect(packed.file).toMatch(/-9\.8\.7-rc\.1\.tgz$/);
    const inspected = await inspectPackage(packed.file);
    expect(inspected.version).toBe("9.8.7-rc.1");
    expect(inspected.checksumsVerified).toBe(true);
    expect(await readFile(join(src, "addon.yaml"), "utf8")).toBe(before);
    // The same override twice: the same bytes.
    const again = await packPackage(src, join(work, "out2"), { version: "9.8.7-rc.1" });
    expect(again.digest).toBe(packed.digest);
  });

  it("refuses a version the manifest's rule does not allow, writing nothing", async () => {
    const src = join(work, "src");
    await writeTree(src, ADDON_TREE);
    await expect(packPackage(src, join(work, "out"), { version: "not a version" })).rejects.toThrow(ValidationError);
    expect(existsSync(join(work, "out"))).toBe(false);
  });
});
