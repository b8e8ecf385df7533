/**
 * Deterministic packing: the same source tree gives a byte-identical .tgz
 * on any machine, whatever the files' mtimes, owners or the umask.
 *
 * Entries sorted by path; mtime from options.sourceDateEpoch, else
 * SOURCE_DATE_EPOCH, else 0; uid/gid 0, no user/group names; files 0644 or
 * 0755 (any execute bit), directories 0755; gzip level 9 (zlib's gzip header
 * carries no time or name); checksums.sha256 (sorted) added at the root.
 * The source is validated first (loadPackageDir) and an invalid package is
 * never written. Files are streamed, never held in memory. The output is
 * written to a temp file in outDir and renamed to `<name>-<version>.tgz`.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, rmSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { PackageKind } from "./archive-scan.js";
import { CHECKSUMS_FILE, comparePaths, formatChecksums } from "./checksums.js";
import { HashingStream, type Sha256Digest } from "./digest.js";
import { type Problem, StepFailedError, UsageError, ValidationError } from "./errors.js";
import { IGNORE_FILE, IgnoreRules } from "./ignore-rules.js";
import { type LoadedPackage, loadPackageDir } from "./package-validate.js";
import { onInterrupt } from "./process.js";
import { END_OF_ARCHIVE, encodeHeader, padding } from "./tar-write.js";

export const GZIP_LEVEL = 9;

export interface PackOptions {
  /** Entry mtime in seconds; default SOURCE_DATE_EPOCH, else 0. */
  sourceDateEpoch?: number;
  strict?: boolean;
}

export interface PackResult {
  file: string;
  kind: PackageKind;
  name: string;
  version: string;
  digest: Sha256Digest;
  size: number;
  /** Packed regular files (package-relative, sorted), checksums.sha256 included. */
  files: string[];
  warnings: Problem[];
}

interface SourceEntry {
  path: string;
  abs: string;
  type: "file" | "directory";
  mode: number;
  size: number;
}

function resolveEpoch(option: number | undefined): number {
  if (option !== undefined) {
    if (!Number.isSafeInteger(option) || option < 0) throw new UsageError(`sourceDateEpoch must be a non-negative integer, got ${option}`);
    return option;
  }
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env === undefined || env === "") return 0;
  if (!/^[0-9]+$/.test(env)) throw new UsageError(`SOURCE_DATE_EPOCH must be a non-negative integer (seconds), got ${JSON.stringify(env)}`);
  return Number(env);
}

/** Walk the source tree (sorted), applying ignore rules; symlinks and special files are problems. */
export async function listSourceEntries(
  root: string,
  extraExcludes: readonly string[] = [],
): Promise<{ entries: SourceEntry[]; problems: Problem[] }> {
  const ignoreText = await readFile(join(root, IGNORE_FILE), "utf8").catch(() => "");
  const rules = IgnoreRules.parse(ignoreText);
  const excluded = new Set(extraExcludes);
  const entries: SourceEntry[] = [];
  const problems: Problem[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort(comparePaths);
    for (const name of names) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const abs = join(root, path);
      if (excluded.has(path)) continue;
      const st = await lstat(abs);
      if (st.isDirectory()) {
        if (rules.ignores(path, true)) continue;
        entries.push({ path, abs, type: "directory", mode: 0o755, size: 0 });
        await walk(path);
      } else if (rules.ignores(path, false)) {
      } else if (st.isFile()) {
        entries.push({ path, abs, type: "file", mode: st.mode & 0o111 ? 0o755 : 0o644, size: st.size });
      } else {
        const what = st.isSymbolicLink() ? "a symbolic link" : "not a regular file or directory";
        problems.push({
          file: abs,
          path,
          message: `${path} is ${what}; packages may only contain regular files and directories (exclude it in ${IGNORE_FILE} or replace it with a copy)`,
          severity: "error",
        });
      }
    }
  };
  await walk("");
  entries.sort((a, b) => comparePaths(a.path, b.path));
  return { entries, problems };
}

async function hashFile(abs: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(abs)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function packPackage(sourceDir: string, outDir: string, options: PackOptions = {}): Promise<PackResult> {
  const root = resolve(sourceDir);
  const mtime = resolveEpoch(options.sourceDateEpoch);
  const pkg: LoadedPackage = await loadPackageDir(root, { strict: options.strict, label: sourceDir });
  // An output directory inside the source (e.g. `--out dist`) is never packed into the package itself.
  const outRel = relative(root, resolve(outDir));
  const outInside = outRel !== "" && !outRel.startsWith("..") && !isAbsolute(outRel) ? [outRel.split(sep).join("/")] : [];
  const { entries, problems } = await listSourceEntries(root, outInside);
  const included = new Set(entries.map((e) => e.path));
  for (const ref of new Set(pkg.references)) {
    if (!included.has(ref)) {
      problems.push({
        file: pkg.manifestFile,
        path: ref,
        message: `${ref} is referenced by the manifest but excluded from the package (${IGNORE_FILE} or a built-in exclude)`,
        severity: "error",
      });
    }
  }
  if (problems.length > 0) {
    throw new ValidationError(`${sourceDir} cannot be packed: ${problems.length} problem${problems.length === 1 ? "" : "s"}`, problems, {
      where: sourceDir,
    });
  }

  const hashes = new Map<string, string>();
  for (const e of entries) if (e.type === "file") hashes.set(e.path, await hashFile(e.abs));
  const checksums = Buffer.from(formatChecksums(hashes), "utf8");
  const all: (SourceEntry | { path: string; type: "checksums" })[] = [...entries, { path: CHECKSUMS_FILE, type: "checksums" as const }];
  all.sort((a, b) => comparePaths(a.path, b.path));

  async function* tarStream(): AsyncGenerator<Buffer> {
    for (const e of all) {
      if (e.type === "checksums") {
        yield encodeHeader({ path: e.path, type: "file", size: checksums.length, mode: 0o644, mtime });
        yield checksums;
        yield padding(checksums.length);
        continue;
      }
      yield encodeHeader({ path: e.path, type: e.type, size: e.size, mode: e.mode, mtime });
      if (e.type === "directory") continue;
      const hash = createHash("sha256");
      let read = 0;
      for await (const chunk of createReadStream(e.abs)) {
        const buf = chunk as Buffer;
        read += buf.length;
        if (read > e.size) break;
        hash.update(buf);
        yield buf;
      }
      if (read !== e.size || hash.digest("hex") !== hashes.get(e.path)) {
        throw new StepFailedError(`${e.path} changed while it was being packed`, {
          where: e.abs,
          hint: "pack again once the source is stable",
        });
      }
      yield padding(e.size);
    }
    yield END_OF_ARCHIVE;
  }

  await mkdir(outDir, { recursive: true });
  const name = pkg.manifest.metadata.name;
  const version = pkg.manifest.metadata.version;
  const file = join(resolve(outDir), `${name}-${version}.tgz`);
  const tmp = join(resolve(outDir), `.${name}-${version}.tgz.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const hasher = new HashingStream();
  const offInterrupt = onInterrupt(() => rmSync(tmp, { force: true }));
  try {
    // `flush: true` fsyncs before close, so the rename publishes complete bytes.
    await pipeline(
      Readable.from(tarStream()),
      createGzip({ level: GZIP_LEVEL }),
      hasher,
      createWriteStream(tmp, { flags: "wx", mode: 0o644, flush: true }),
    );
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    offInterrupt();
  }
  return {
    file,
    kind: pkg.kind,
    name,
    version,
    digest: hasher.digest(),
    size: hasher.bytes,
    files: [...hashes.keys(), CHECKSUMS_FILE].sort(comparePaths),
    warnings: pkg.warnings,
  };
}
