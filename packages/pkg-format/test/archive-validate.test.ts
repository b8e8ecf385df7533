import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openPackage, validatePackageArchive } from "../src/archive/extract.js";
import { packPackage } from "../src/archive/pack.js";
import { ArchiveIndex, directoryTree } from "../src/archive/package-tree.js";
import { formatProblem, IntegrityError, UsageError, ValidationError } from "../src/errors.js";
import { ADDON_TREE, PROFILE_TREE, type Tree, tempDir } from "./helpers/source-tree.js";
import { dir, file, tgz } from "./helpers/tar-builder.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "..", "fixtures");
const fixtureSources = ["addons", "profiles"].flatMap((group) =>
  readdirSync(join(FIXTURES, group)).map((name) => ({ group, name, dir: join(FIXTURES, group, name) })),
);

let work: string;
beforeEach(async () => {
  work = await tempDir("pkgfmt-avalidate-");
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** openPackage + loadPackageDir's verdict, in the shape validatePackageArchive returns. */
async function throughExtraction(tgzFile: string, options: { label?: string; strict?: boolean } = {}) {
  const opened = await openPackage(tgzFile, { ...options, tmpDir: work });
  try {
    const { root: _root, manifestFile: _manifestFile, ...pkg } = opened.pkg;
    return { pkg, digest: opened.digest, size: opened.size, files: opened.files, checksumsVerified: opened.checksumsVerified };
  } finally {
    await opened.cleanup();
  }
}

async function verdict(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await run() };
  } catch (err) {
    if (err instanceof ValidationError) return { message: err.message, problems: err.problems.map(formatProblem), exitCode: err.exitCode };
    if (err instanceof IntegrityError) return { reason: err.reason, message: err.message, entry: err.entry, where: err.where };
    throw err;
  }
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** A .tgz of `tree` (optionally under a wrapper directory), with a correct checksums.sha256; no validation on the way. */
async function rawPackage(tree: Tree, wrapper = ""): Promise<string> {
  const prefix = wrapper === "" ? "" : `${wrapper}/`;
  const text = (spec: Tree[string]) => (typeof spec === "string" ? spec : spec.content);
  const paths = Object.keys(tree).sort();
  const sums = paths.map((p) => `${sha(text(tree[p] as Tree[string]))}  ${p}\n`).join("");
  const entries = [
    ...(wrapper === "" ? [] : [dir(wrapper)]),
    ...paths.map((p) => {
      const spec = tree[p] as Tree[string];
      return file(prefix + p, text(spec), typeof spec === "string" ? 0o644 : spec.mode);
    }),
    file(`${prefix}checksums.sha256`, sums),
  ];
  const out = join(work, `raw-${Math.random().toString(36).slice(2)}.tgz`);
  await writeFile(out, tgz(...entries));
  return out;
}

describe("validatePackageArchive gives openPackage's verdict without extracting", () => {
  it("has fixtures to compare", () => {
    expect(fixtureSources.length).toBeGreaterThanOrEqual(4);
  });

  for (const fx of fixtureSources) {
    it(`fixtures/${fx.group}/${fx.name}`, async () => {
      const packed = await packPackage(fx.dir, join(work, "out"));
      const viaArchive = await validatePackageArchive(packed.file, { tmpDir: work });
      expect(viaArchive.extracted).toBe(false);
      expect(viaArchive.checksumsVerified).toBe(true);
      expect(viaArchive.digest).toBe(packed.digest);
      const { extracted: _e, ...rest } = viaArchive;
      expect(rest).toEqual(await throughExtraction(packed.file));
      // strict mode too
      expect(await verdict(() => validatePackageArchive(packed.file, { strict: true }).then((r) => r.pkg))).toEqual(
        await verdict(() => throughExtraction(packed.file, { strict: true }).then((r) => r.pkg)),
      );
    });
  }

  const invalid: { name: string; tree: () => Tree; wrapper?: string }[] = [
    {
      name: "missing install script",
      tree: () => {
        const t = { ...ADDON_TREE };
        delete t["scripts/install.sh"];
        return t;
      },
    },
    {
      name: "chart directory without Chart.yaml",
      tree: () => {
        const t = { ...ADDON_TREE };
        delete t["charts/demo/Chart.yaml"];
        return t;
      },
    },
    {
      name: "invalid Chart.yaml and a script that is a directory (wrapped archive)",
      tree: () => {
        const t: Tree = { ...ADDON_TREE, "charts/demo/Chart.yaml": "apiVersion: v2\nname: 3\n" };
        delete t["scripts/pre.sh"];
        t["scripts/pre.sh/inner.sh"] = "#!/bin/sh\n";
        return t;
      },
      wrapper: "demo-1.2.3",
    },
    {
      name: "'..' and absolute references",
      tree: () => ({
        ...ADDON_TREE,
        "addon.yaml": (ADDON_TREE["addon.yaml"] as string)
          .replace("script: scripts/install.sh", "script: ../outside.sh")
          .replace("path: charts/demo", "path: /charts/demo"),
      }),
    },
    {
      name: "chart path given as a file, values given as a directory, './' and '//' spellings",
      tree: () => ({
        ...ADDON_TREE,
        "addon.yaml": (ADDON_TREE["addon.yaml"] as string)
          .replace("path: charts/demo", "path: ./charts//demo/Chart.yaml")
          .replace("values: [values.yaml]", "values: [charts/demo/, ./values.yaml]"),
      }),
    },
    {
      name: "profile: missing playbook, empty package default, unknown field",
      tree: () => {
        const t: Tree = {
          ...PROFILE_TREE,
          "profile.env": "CLUSTER_NAME=\n",
          "profile.yaml": `${PROFILE_TREE["profile.yaml"] as string}  surprise: 1\n`,
        };
        delete t["scenario/playbook.yml"];
        return t;
      },
    },
    {
      name: "profile: profile.env syntax error",
      tree: () => ({ ...PROFILE_TREE, "profile.env": "CLUSTER_NAME=demo\nnot an assignment\n" }),
      wrapper: "p",
    },
    {
      name: "profile: profile.env is a directory",
      tree: () => {
        const t: Tree = { ...PROFILE_TREE, "profile.env/x": "A=1\n" };
        delete t["profile.env"];
        return t;
      },
    },
    { name: "valid add-on, wrapped", tree: () => ({ ...ADDON_TREE }), wrapper: "demo" },
    {
      name: "profile without profile.env",
      tree: () => {
        const t: Tree = { ...PROFILE_TREE };
        delete t["profile.env"];
        return t;
      },
    },
  ];
  for (const c of invalid) {
    it(`same problems through both paths: ${c.name}`, async () => {
      const pkgFile = await rawPackage(c.tree(), c.wrapper);
      for (const strict of [false, true]) {
        const viaExtraction = await verdict(() => throughExtraction(pkgFile, { label: "pkg.tgz", strict }));
        const viaArchive = await verdict(() =>
          validatePackageArchive(pkgFile, { label: "pkg.tgz", strict }).then(({ extracted: _e, ...rest }) => rest),
        );
        expect(viaArchive).toEqual(viaExtraction);
      }
    });
  }

  it("a dangerous reference is reported with its manifest location; an empty stream is not a package", async () => {
    const tree = {
      ...ADDON_TREE,
      "addon.yaml": (ADDON_TREE["addon.yaml"] as string).replace("script: scripts/install.sh", "script: scripts/../../x.sh"),
    };
    const out = await verdict(() => validatePackageArchive(Readable.from([]), { label: "pkg" }));
    expect(out).toMatchObject({ reason: "not-gzip" });
    const pkgFile = await rawPackage(tree);
    expect(await verdict(() => validatePackageArchive(pkgFile, { label: "pkg" }))).toEqual({
      message: "pkg/addon.yaml is invalid: 1 problem",
      problems: [
        "error: pkg/addon.yaml:14:13: spec.install.script: expected a relative path inside the package, found \"scripts/../../x.sh\" which contains '..'",
      ],
      exitCode: 4,
    });
  });

  it("falls back to extraction (then removes it) when a file validation reads is over the budget", async () => {
    const packed = await packPackage(join(FIXTURES, "addons", "longhorn"), join(work, "out"));
    const tmp = join(work, "tmp");
    await mkdir(tmp);
    const small = await validatePackageArchive(packed.file, { keep: { maxTotalBytes: 8 }, tmpDir: tmp });
    expect(small.extracted).toBe(true);
    expect(await readdir(tmp)).toEqual([]);
    const { extracted: _e, ...rest } = small;
    expect(rest).toEqual(await throughExtraction(packed.file));
    // Per-file cap: the same.
    expect((await validatePackageArchive(packed.file, { keep: { maxFileBytes: 4 }, tmpDir: tmp })).extracted).toBe(true);
    // A stream cannot be read twice.
    const { createReadStream } = await import("node:fs");
    const err = await validatePackageArchive(createReadStream(packed.file), { keep: { maxTotalBytes: 8 }, label: "x.tgz" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe(
      "cannot validate x.tgz from a stream: charts/longhorn/Chart.yaml is too large to keep in memory",
    );
    // Within budget from a stream: no fallback needed.
    expect((await validatePackageArchive(createReadStream(packed.file))).extracted).toBe(false);
  });

  it("reports a missing file as NotFoundError (exit 3), like openPackage", async () => {
    const missing = join(work, "missing.tgz");
    const a = await validatePackageArchive(missing).catch((e: unknown) => e);
    const b = await openPackage(missing).catch((e: unknown) => e);
    expect((a as Error).message).toBe((b as Error).message);
    expect((a as { exitCode: number }).exitCode).toBe(3);
  });
});

describe("package trees", () => {
  it("an archive index answers kinds for explicit and implied directories, and keeps files within the budget", async () => {
    const index = new ArchiveIndex({ maxFileBytes: 4, maxTotalBytes: 100 });
    const body = async function* (s: string) {
      yield Buffer.from(s);
    };
    await index.directory("w/explicit/deep");
    await index.file("w/a/b/c.txt", 0o644, body("abc"), 3);
    await index.file("w/big.txt", 0o644, body("12345"), 5);
    const tree = index.tree("w");
    expect(await tree.kind("")).toBe("dir");
    expect(await tree.kind("explicit")).toBe("dir");
    expect(await tree.kind("explicit/deep")).toBe("dir");
    expect(await tree.kind("a/b")).toBe("dir");
    expect(await tree.kind("a/b/c.txt")).toBe("file");
    expect(await tree.kind("a/b/c")).toBeUndefined();
    expect(await tree.readText("a/b/c.txt")).toBe("abc");
    expect(await tree.readText("missing")).toBeUndefined();
    await expect(tree.readText("big.txt")).rejects.toThrow("big.txt was not kept in memory");
    expect(index.keptBytes).toBe(3);
  });

  it("a directory tree reports links that leave the root, and dangling links", async () => {
    const root = join(work, "root");
    await mkdir(join(root, "d"), { recursive: true });
    await writeFile(join(root, "f"), "x");
    const { symlink } = await import("node:fs/promises");
    await symlink("/etc", join(root, "out"));
    await symlink("nowhere", join(root, "dangling"));
    await symlink("f", join(root, "inside"));
    const tree = await directoryTree(root);
    expect(await tree.kind("d")).toBe("dir");
    expect(await tree.kind("f")).toBe("file");
    expect(await tree.kind("inside")).toBe("file");
    expect(await tree.kind("out")).toBe("outside");
    expect(await tree.kind("dangling")).toBe("dangling");
    expect(await tree.kind("none")).toBeUndefined();
  });
});
