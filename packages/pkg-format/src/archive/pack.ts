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
 *
 * checksums.sha256 sorts among the files, so most files' checksums are needed
 * before their bytes go into the archive: a first pass hashes every file
 * (read ahead in parallel), the second reads them again into the archive and
 * checks each against its first hash, so a file changed while packing is an
 * error. Reads run ahead of the compressor (bounded) and reach it in 1 MiB
 * chunks, so deflate — the real cost — is kept fed.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, rmSync, type Stats } from "node:fs";
import { lstat, mkdir, readdir, rename, rm } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { Readable, type TransformOptions } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip, type ZlibOptions } from "node:zlib";
import { parseDocument } from "yaml";
import { IntegrityError, type Problem, UsageError, ValidationError } from "../errors.js";
import { parseAddonManifest, parseProfileManifest, parseStackManifest } from "../format/manifest-parse.js";
import { compareText } from "../format/text-order.js";
import { onInterrupt } from "../host/interrupts.js";
import { readRegularText } from "../host/regular-file.js";
import { MANIFEST_FILES, type PackageKind, scanArchive } from "./archive-scan.js";
import { CHECKSUMS_FILE, formatChecksums } from "./checksums.js";
import { HashingStream, type Sha256Digest, sha256Hex } from "./digest.js";
import { checkEntryPath, PathRegistry } from "./entry-path.js";
import { DEFAULT_LIMITS, resolveLimits } from "./extract-limits.js";
import { IGNORE_FILE, IgnoreRules } from "./ignore-rules.js";
import { DEFAULT_CHUNK_SIZE, type TarItem, tarChunks } from "./pack-stream.js";
import { type LoadedPackage, loadPackageDir } from "./package-validate.js";
import { hashSourceFiles } from "./source-read.js";

export const GZIP_LEVEL = 9;
/** zlib's output buffer: big, so the compressor (on the threadpool) rarely waits for the main thread. */
const GZIP_CHUNK_SIZE = 256 * 1024;
const LSTAT_BATCH = 64;

export interface PackOptions {
  /** Entry mtime in seconds; default SOURCE_DATE_EPOCH, else 0. */
  sourceDateEpoch?: number;
  strict?: boolean;
  /**
   * Release builds: the package's version, written into the packed manifest's metadata.version (the source
   * is left alone) and validated by the manifest's own rule.
   */
  version?: string | undefined;
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

/**
 * lstat of every path, a batch at a time (a directory's entries need not wait for each other).
 * undefined: a name readdir could only give with U+FFFD in it (not valid UTF-8), so no such path exists.
 */
async function lstatAll(paths: readonly string[]): Promise<(Stats | undefined)[]> {
  const stats: (Stats | undefined)[] = [];
  const one = (p: string) =>
    lstat(p).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && p.includes("\uFFFD")) return undefined;
      throw err;
    });
  for (let i = 0; i < paths.length; i += LSTAT_BATCH) {
    stats.push(...(await Promise.all(paths.slice(i, i + LSTAT_BATCH).map(one))));
  }
  return stats;
}

/** A problem about one source path, in the packer's words. */
function pathProblem(abs: string, path: string, why: string): Problem {
  return {
    file: abs,
    path,
    message: `${JSON.stringify(path)} ${why}; the extractor rejects such packages, so it cannot be packed (rename it or exclude it in ${IGNORE_FILE})`,
    severity: "error",
  };
}

/** Walk the source tree (sorted), applying ignore rules; symlinks and special files are problems. */
export async function listSourceEntries(
  root: string,
  extraExcludes: readonly string[] = [],
): Promise<{ entries: SourceEntry[]; problems: Problem[] }> {
  const ignoreText = await readRegularText(join(root, IGNORE_FILE)).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  });
  const rules = IgnoreRules.parse(ignoreText);
  const excluded = new Set(extraExcludes);
  const entries: SourceEntry[] = [];
  const problems: Problem[] = [];
  // The extractor's path rules (entry-path.ts), on every path the package will hold, the generated checksums file included.
  const registry = new PathRegistry();
  registry.add(CHECKSUMS_FILE, "file");
  const keep = (entry: SourceEntry): boolean => {
    const checked = checkEntryPath(entry.path, entry.type === "directory");
    const broken = "why" in checked ? checked : registry.add(entry.path, entry.type === "directory" ? "dir" : "file");
    if (broken === undefined) entries.push(entry);
    else problems.push(pathProblem(entry.abs, entry.path, broken.why));
    return broken === undefined;
  };
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort(compareText);
    const paths = names.map((name) => (rel === "" ? name : `${rel}/${name}`)).filter((path) => !excluded.has(path));
    const stats = await lstatAll(paths.map((path) => join(root, path)));
    for (const [i, path] of paths.entries()) {
      const abs = join(root, path);
      const st = stats[i];
      if (st === undefined) {
        problems.push(pathProblem(abs, path, "has a name that is not valid UTF-8"));
      } else if (st.isDirectory()) {
        if (rules.ignores(path, true)) continue;
        if (keep({ path, abs, type: "directory", mode: 0o755, size: 0 })) await walk(path);
      } else if (rules.ignores(path, false)) {
      } else if (st.isFile()) {
        keep({ path, abs, type: "file", mode: st.mode & 0o111 ? 0o755 : 0o644, size: st.size });
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
  entries.sort((a, b) => compareText(a.path, b.path));
  return { entries, problems };
}

/** The manifest's text with `metadata.version` set to `version`, checked by the manifest's own schema. */
async function manifestWithVersion(pkg: LoadedPackage, version: string, label: string): Promise<Buffer> {
  const doc = parseDocument(await readRegularText(pkg.manifestFile));
  doc.setIn(["metadata", "version"], version);
  const text = doc.toString();
  const file = `${label}/${MANIFEST_FILES[pkg.kind]} (version ${JSON.stringify(version)})`;
  const parse = { addon: parseAddonManifest, profile: parseProfileManifest, stack: parseStackManifest }[pkg.kind];
  parse(text, file);
  return Buffer.from(text, "utf8");
}

/** The extractor's default limits (extract-limits.ts): a package over one is rejected by every consumer that keeps them. */
function limitProblems(root: string, entries: readonly SourceEntry[]): Problem[] {
  const problems: Problem[] = [];
  const over = (file: string, message: string, path?: string): number =>
    problems.push({ file, ...(path === undefined ? {} : { path }), message, severity: "error" });
  // + checksums.sha256, which the packer adds.
  if (entries.length + 1 > DEFAULT_LIMITS.maxEntries)
    over(root, `the package would hold ${entries.length + 1} entries, over the extractor's limit of ${DEFAULT_LIMITS.maxEntries}`);
  let total = 0;
  for (const e of entries) {
    total += e.size;
    if (e.size > DEFAULT_LIMITS.maxFileBytes)
      over(e.abs, `${e.path} is ${e.size} bytes, over the extractor's ${DEFAULT_LIMITS.maxFileBytes}-byte limit for one file`, e.path);
  }
  if (total > DEFAULT_LIMITS.maxTotalBytes)
    over(root, `the package's files total ${total} bytes, over the extractor's limit of ${DEFAULT_LIMITS.maxTotalBytes}`);
  return problems;
}

/**
 * The last of the extractor's rules can only be checked on the bytes themselves: the decompression ratio
 * (a package of highly compressible files, e.g. megabytes of zeros, reads as a gzip bomb). Rather than a
 * second model of that rule, the packed file goes through the extractor's own scan with its default limits
 * before it is published: a package this returns is one every consumer with the defaults accepts. A scan
 * of what was just written costs a gunzip and a hash pass (see docs/performance.md).
 */
async function refuseWhatConsumersReject(tmp: string, root: string, sourceDir: string): Promise<void> {
  try {
    await scanArchive(tmp, resolveLimits());
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    const message = `the packed archive would be refused by every consumer: ${err.message}`;
    throw new ValidationError(`${sourceDir} cannot be packed: 1 problem`, [{ file: root, message, severity: "error" }], {
      where: sourceDir,
      hint: "exclude the file in .pk3signore or ship it compressed",
    });
  }
}

export async function packPackage(sourceDir: string, outDir: string, options: PackOptions = {}): Promise<PackResult> {
  const root = resolve(sourceDir);
  const mtime = resolveEpoch(options.sourceDateEpoch);
  const pkg: LoadedPackage = await loadPackageDir(root, { strict: options.strict, label: sourceDir });
  // An output directory inside the source (e.g. `--out dist`) is never packed into the package itself.
  const outRel = relative(root, resolve(outDir));
  const outInside = outRel !== "" && !outRel.startsWith("..") && !isAbsolute(outRel) ? [outRel.split(sep).join("/")] : [];
  const { entries, problems } = await listSourceEntries(root, outInside);
  problems.push(...limitProblems(root, entries));
  const included = new Set(entries.map((e) => e.path));
  const refused = new Set(problems.map((p) => p.path));
  for (const ref of new Set(pkg.references)) {
    if (!included.has(ref) && !refused.has(ref)) {
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

  const hashes = await hashSourceFiles(entries.filter((e) => e.type === "file"));
  const manifestPath = MANIFEST_FILES[pkg.kind];
  const manifestOverride = options.version === undefined ? undefined : await manifestWithVersion(pkg, options.version, sourceDir);
  if (manifestOverride !== undefined) hashes.set(manifestPath, sha256Hex(manifestOverride));
  const items: TarItem[] = entries.map((e) =>
    e.type === "directory"
      ? { type: "directory", path: e.path, mode: e.mode }
      : e.path === manifestPath && manifestOverride !== undefined
        ? { type: "bytes", path: e.path, mode: e.mode, data: manifestOverride }
        : { type: "file", path: e.path, abs: e.abs, size: e.size, mode: e.mode, sha256: hashes.get(e.path) as string },
  );
  items.push({ type: "bytes", path: CHECKSUMS_FILE, mode: 0o644, data: Buffer.from(formatChecksums(hashes), "utf8") });
  items.sort((a, b) => compareText(a.path, b.path));

  await mkdir(outDir, { recursive: true });
  const name = pkg.manifest.metadata.name;
  const version = options.version ?? pkg.manifest.metadata.version;
  const file = join(resolve(outDir), `${name}-${version}.tgz`);
  const tmp = join(resolve(outDir), `.${name}-${version}.tgz.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const hasher = new HashingStream();
  // zlib hands its options to Transform too (the typings only list zlib's own).
  const gzipOptions: ZlibOptions & TransformOptions = {
    level: GZIP_LEVEL,
    chunkSize: GZIP_CHUNK_SIZE,
    writableHighWaterMark: 2 * DEFAULT_CHUNK_SIZE,
  };
  const offInterrupt = onInterrupt(() => rmSync(tmp, { force: true }));
  try {
    // `flush: true` fsyncs before close, so the rename publishes complete bytes.
    // Bounded buffering between the stages: one chunk ready ahead, two queued for deflate.
    await pipeline(
      Readable.from(tarChunks(items, { mtime }), { highWaterMark: 1 }),
      createGzip(gzipOptions),
      hasher,
      createWriteStream(tmp, { flags: "wx", mode: 0o644, flush: true, highWaterMark: 2 * GZIP_CHUNK_SIZE }),
    );
    await refuseWhatConsumersReject(tmp, root, sourceDir);
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
    files: [...hashes.keys(), CHECKSUMS_FILE].sort(compareText),
    warnings: pkg.warnings,
  };
}
