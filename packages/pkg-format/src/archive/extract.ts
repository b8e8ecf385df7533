/**
 * Safe extraction of an untrusted package (DESIGN §6).
 *
 * The archive is streamed once: gzip magic check, digest and ratio
 * accounting, then every tar entry is validated (see archive-scan.ts) BEFORE
 * anything is written, and rejected, never skipped. Files are written by us
 * (exclusive create, mode 0644 or 0755 only: setuid/setgid/sticky are never
 * applied) into a fresh private directory made with mkdtemp (0700). On
 * success that directory is renamed to the caller's destination (or kept,
 * when no destination was given); on ANY failure it is removed entirely.
 *
 * Layout errors (no manifest, two manifests) are IntegrityError: the
 * archive is "not a package", which is the integrity layer's call (exit 6);
 * the manifest's CONTENT is validated later by loadPackageDir (exit 4).
 */
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { chmod, mkdtemp, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { IntegrityError, NotFoundError, UsageError } from "../errors.js";
import { onInterrupt } from "../host/interrupts.js";
import type { PackageSource } from "./archive-input.js";
import {
  type ArchiveFile,
  type ArchiveSink,
  type EntryBody,
  type PackageKind,
  type ScannedFiles,
  scanArchive,
  scanFiles,
} from "./archive-scan.js";
import { type Sha256Digest, sha256File } from "./digest.js";
import { type ExtractLimits, resolveLimits } from "./extract-limits.js";
import { ArchiveIndex, ContentNotKeptError, type KeepPolicy, READ_BY_VALIDATION } from "./package-tree.js";
import { type LoadedPackage, type LoadOptions, loadPackageDir, type ValidatedPackage, validatePackageTree } from "./package-validate.js";

export interface ExtractOptions {
  limits?: Partial<ExtractLimits>;
  /** Final directory; must not exist (or be an empty directory). Default: a fresh directory under `tmpDir`. */
  destination?: string;
  /** Parent for the private temp directory when no destination is given (default os.tmpdir()). */
  tmpDir?: string;
}

export interface ExtractedPackage {
  /** The extraction directory (destination, or the private temp directory). */
  dir: string;
  /** The package root: `dir`, or `dir/<wrapper>` when the archive wraps everything in one directory. */
  root: string;
  kind: PackageKind;
  /** Absolute path of the manifest. */
  manifestFile: string;
  /** Regular files, relative to `root`, sorted. */
  files: string[];
  entries: ArchiveFile[];
  digest: Sha256Digest;
  size: number;
  /** Whether checksums.sha256 was present (and therefore verified). */
  checksumsVerified: boolean;
  /** Remove the extraction directory. */
  cleanup(): Promise<void>;
}

async function prepareDestination(destination: string): Promise<{ parent: string; replaceEmptyDir: boolean }> {
  const parent = dirname(destination);
  const parentStat = await stat(parent).catch(() => undefined);
  if (parentStat === undefined || !parentStat.isDirectory()) {
    throw new NotFoundError(`cannot extract into ${destination}: ${parent} is not a directory`, { where: destination });
  }
  const existing = await stat(destination).catch(() => undefined);
  if (existing === undefined) return { parent, replaceEmptyDir: false };
  if (existing.isDirectory() && (await readdir(destination)).length === 0) return { parent, replaceEmptyDir: true };
  throw new UsageError(`cannot extract into ${destination}: it already exists and is not an empty directory`, {
    where: destination,
    hint: "choose a new destination or remove the existing one",
  });
}

/**
 * Write one entry. Synchronous fs calls on purpose: a package of 20,000 small
 * files would otherwise pay five thread-pool round trips per file (mkdir, open,
 * write, chmod, close) and spend most of its time idle. A body that was
 * already in memory is written in one go; a streamed one through `for await`,
 * which yields between chunks, so large bodies stream with bounded memory.
 */
function writeBody(path: string, mode: number, body: EntryBody): void | Promise<void> {
  const fd = openSync(path, "wx", mode);
  if (!Buffer.isBuffer(body)) return writeStreamed(fd, mode, body);
  try {
    writeAll(fd, body);
    // The umask may have removed bits; setuid/setgid/sticky are never in `mode`.
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

async function writeStreamed(fd: number, mode: number, body: AsyncIterable<Buffer>): Promise<void> {
  try {
    for await (const chunk of body) writeAll(fd, chunk);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
}

/**
 * Extraction as a whole: a fresh private directory (0700) beside the destination, every entry written by
 * us as `scan` validates it, then renamed into place; on any failure, or Ctrl-C, nothing is left behind.
 */
async function extractWith<T>(
  options: ExtractOptions,
  scan: (limits: ExtractLimits, sink: ArchiveSink) => Promise<T>,
): Promise<{ dir: string; scanned: T }> {
  const limits = resolveLimits(options.limits);
  const destination = options.destination === undefined ? undefined : resolve(options.destination);
  const prepared = destination === undefined ? undefined : await prepareDestination(destination);
  const base = prepared?.parent ?? options.tmpDir ?? tmpdir();
  const temp = await mkdtemp(join(base, ".pk3s-extract-"));
  // Ctrl-C while extracting must not leave a half-written tree behind.
  const offInterrupt = onInterrupt(() => rmSync(temp, { recursive: true, force: true }));
  try {
    await chmod(temp, 0o700);
    const dirs: string[] = [];
    const made = new Set<string>([temp]);
    const ensureDir = (abs: string): void => {
      if (made.has(abs)) return;
      mkdirSync(abs, { recursive: true, mode: 0o755 });
      for (let d = abs; d !== temp && !made.has(d); d = dirname(d)) made.add(d);
    };
    const scanned = await scan(limits, {
      directory: (path) => {
        ensureDir(join(temp, path));
        dirs.push(path);
      },
      file: (path, mode, body) => {
        const abs = join(temp, path);
        ensureDir(dirname(abs));
        return writeBody(abs, mode, body);
      },
    });
    for (const d of dirs) chmodSync(join(temp, d), 0o755);
    let dir = temp;
    if (destination !== undefined) {
      if (prepared?.replaceEmptyDir === true) await rmdir(destination);
      await rename(temp, destination);
      dir = destination;
    }
    return { dir, scanned };
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  } finally {
    offInterrupt();
  }
}

export async function extractPackage(input: PackageSource, options: ExtractOptions = {}): Promise<ExtractedPackage> {
  const { dir, scanned } = await extractWith(options, (limits, sink) => scanArchive(input, limits, sink));
  const root = scanned.wrapper === "" ? dir : join(dir, scanned.wrapper);
  return {
    dir,
    root,
    kind: scanned.kind,
    manifestFile: join(root, scanned.manifestFile),
    files: scanned.files.map((f) => f.path),
    entries: scanned.files,
    digest: scanned.digest,
    size: scanned.size,
    checksumsVerified: scanned.checksumsVerified,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** An archive that is not a package (e.g. a Helm chart .tgz), extracted with the same rules and guarantees. */
export interface ExtractedFiles extends ScannedFiles {
  dir: string;
  cleanup(): Promise<void>;
}

/**
 * Safe extraction of a gzipped tar that is not a package: every entry rule of extractPackage (no links,
 * devices, traversal, collisions; size, count and ratio limits), no manifest or layout rule.
 */
export async function extractFiles(input: PackageSource, options: ExtractOptions = {}): Promise<ExtractedFiles> {
  const { dir, scanned } = await extractWith(options, (limits, sink) => scanFiles(input, limits, sink));
  return { ...scanned, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface OpenOptions extends LoadOptions {
  limits?: Partial<ExtractLimits>;
  /** Verify the package digest BEFORE extracting (one extra read of the file). */
  expectedDigest?: string;
  tmpDir?: string;
}

export interface OpenedPackage {
  pkg: LoadedPackage;
  digest: Sha256Digest;
  size: number;
  dir: string;
  root: string;
  files: string[];
  checksumsVerified: boolean;
  cleanup(): Promise<void>;
}

/** The checks openPackage and validatePackageArchive make before reading a package file. */
async function checkPackageFile(tgzPath: string, expectedDigest: string | undefined): Promise<void> {
  const exists = await stat(tgzPath).catch(() => undefined);
  if (exists === undefined)
    throw new NotFoundError(`package file not found: ${tgzPath}`, { where: tgzPath, hint: "check the path to the .tgz" });
  if (!exists.isFile()) throw new UsageError(`${tgzPath} is not a file`, { where: tgzPath });
  if (expectedDigest !== undefined) {
    const actual = await sha256File(tgzPath);
    if (actual !== expectedDigest.toLowerCase()) {
      throw new IntegrityError("digest-mismatch", `digest mismatch for ${tgzPath}: expected ${expectedDigest}, found ${actual}`, {
        where: tgzPath,
        hint: "the file is corrupt or was replaced; download it again",
      });
    }
  }
}

/** digest + safe extraction + loadPackageDir: the one call runtimes use for `--tgz`. */
export async function openPackage(tgzPath: string, options: OpenOptions = {}): Promise<OpenedPackage> {
  await checkPackageFile(tgzPath, options.expectedDigest);
  const extracted = await extractPackage(tgzPath, { limits: options.limits, tmpDir: options.tmpDir });
  try {
    const label = options.label ?? tgzPath;
    const pkg = await loadPackageDir(extracted.root, { strict: options.strict, label });
    return {
      pkg,
      digest: extracted.digest,
      size: extracted.size,
      dir: extracted.dir,
      root: extracted.root,
      files: extracted.files,
      checksumsVerified: extracted.checksumsVerified,
      cleanup: extracted.cleanup,
    };
  } catch (err) {
    await extracted.cleanup();
    throw err;
  }
}

export interface ValidateArchiveOptions extends LoadOptions {
  limits?: Partial<ExtractLimits>;
  /** Checked before reading, as openPackage does (file sources only). */
  expectedDigest?: string;
  /** What is kept in memory while scanning (content that validation needs but was not kept means a fallback to extraction). */
  keep?: Partial<KeepPolicy>;
  /** Parent for the fallback's private temp directory (default os.tmpdir()). */
  tmpDir?: string;
}

export interface ValidatedArchive {
  pkg: ValidatedPackage;
  digest: Sha256Digest;
  size: number;
  /** Regular files, relative to the package root, sorted. */
  files: string[];
  checksumsVerified: boolean;
  /** True when validation needed content over the in-memory budget and the package was extracted (then removed) instead. */
  extracted: boolean;
}

/**
 * openPackage's verdict without extracting: the archive is read once, with
 * the same entry checks and IntegrityErrors as extraction (scanArchive) and
 * checksums.sha256 verified, and validated from memory (validatePackageTree,
 * the rules loadPackageDir applies). Nothing is written to disk unless a file
 * validation reads was over the in-memory budget: then a file source is
 * extracted into a private temp directory, validated there and removed (a
 * stream source cannot be read twice: UsageError).
 */
export async function validatePackageArchive(source: PackageSource, options: ValidateArchiveOptions = {}): Promise<ValidatedArchive> {
  if (typeof source === "string") await checkPackageFile(source, options.expectedDigest);
  const limits = resolveLimits(options.limits);
  const label = options.label ?? (typeof source === "string" ? source : "<stream>");
  // Only what validatePackageTree reads is kept (a caller's policy may still say otherwise).
  const index = new ArchiveIndex({ onlyNames: READ_BY_VALIDATION, ...options.keep });
  const scanned = await scanArchive(source, limits, index);
  const files = scanned.files.map((f) => f.path);
  const tree = index.tree(scanned.wrapper, new Map([[scanned.manifestFile, scanned.manifestText]]));
  try {
    const pkg = await validatePackageTree(tree, scanned.kind, { strict: options.strict, label });
    const { digest, size, checksumsVerified } = scanned;
    return { pkg, digest, size, files, checksumsVerified, extracted: false };
  } catch (err) {
    if (!(err instanceof ContentNotKeptError)) throw err;
    if (typeof source !== "string") {
      throw new UsageError(`cannot validate ${label} from a stream: ${err.path} is too large to keep in memory`, {
        where: label,
        hint: "validate the package from a file, which can be read a second time",
      });
    }
  }
  const opened = await openPackage(source, { strict: options.strict, label, limits: options.limits, tmpDir: options.tmpDir });
  try {
    if (opened.digest !== scanned.digest) {
      throw new IntegrityError(
        "digest-mismatch",
        `${source} changed while it was being validated (${scanned.digest}, then ${opened.digest})`,
        {
          where: source,
          hint: "make sure nothing writes to the package file, then try again",
        },
      );
    }
    const { root: _root, manifestFile: _manifestFile, ...pkg } = opened.pkg;
    return {
      pkg,
      digest: opened.digest,
      size: opened.size,
      files: opened.files,
      checksumsVerified: opened.checksumsVerified,
      extracted: true,
    };
  } finally {
    await opened.cleanup();
  }
}
