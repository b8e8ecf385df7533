/**
 * Validating every entry of an untrusted package archive while it streams,
 * shared by extraction (which writes) and inspection (which does not).
 *
 * Rejected (IntegrityError, `reason` in parentheses), the path rules being
 * those of entry-path.ts (which the packer applies too): absolute paths
 * (absolute-path), `..` (path-traversal), NUL/control character/backslash/
 * overlong/empty names (invalid-path), symlinks (symlink), hardlinks (hardlink), character and
 * block devices (device), FIFOs (fifo), other entry types
 * (unsupported-entry-type), the same path twice (duplicate-entry), names
 * equal up to case (case-collision) or Unicode normalisation
 * (unicode-collision), a file used as a directory or vice versa
 * (path-conflict), too many entries (too-many-entries), a file over the
 * size limit (file-too-large), too many bytes in total (total-too-large), the
 * decompression ratio (ratio-exceeded), corrupt/truncated data (corrupt-tar,
 * corrupt-gzip, truncated, not-gzip, meta-too-large), no manifest
 * (no-manifest) or more than one (multiple-manifests), and checksum problems
 * (checksums-malformed, checksum-mismatch, checksum-missing-file,
 * checksum-unlisted-file).
 */
import { createHash, hash as hashOnce } from "node:crypto";
import { IntegrityError } from "../errors.js";
import { compareText } from "../format/text-order.js";
import { type CompressedStats, type PackageSource, readGzipped } from "./archive-input.js";
import { CHECKSUMS_FILE, parseChecksums, verifyFileChecksums } from "./checksums.js";
import type { Sha256Digest } from "./digest.js";
import { checkEntryPath, PathRegistry } from "./entry-path.js";
import type { ExtractLimits } from "./extract-limits.js";
import { readTar, type TarEntry, TarFormatError } from "./tar-read.js";

export type PackageKind = "addon" | "profile" | "stack";

export const MANIFEST_FILES: Readonly<Record<PackageKind, string>> = { addon: "addon.yaml", profile: "profile.yaml", stack: "stack.yaml" };

const MANIFEST_NAMES: ReadonlySet<string> = new Set(Object.values(MANIFEST_FILES));
/** The package kind a manifest file name says, or undefined. */
const KIND_OF_MANIFEST = new Map(Object.entries(MANIFEST_FILES).map(([kind, file]) => [file, kind as PackageKind]));
/** "addon.yaml, profile.yaml or stack.yaml", for messages. */
export const MANIFEST_LIST = Object.values(MANIFEST_FILES)
  .map((f, i, all) => (i === 0 ? f : i === all.length - 1 ? ` or ${f}` : `, ${f}`))
  .join("");

export interface ArchiveFile {
  /** Path relative to the package root. */
  path: string;
  size: number;
  /** Normalised mode: 0o755 if any execute bit was set, else 0o644. */
  mode: number;
}

/**
 * A file's content as the scanner hands it on: the whole of it when it was
 * already in memory (a view into the decompressed stream: copy what you
 * keep), else its chunks, streamed.
 */
export type EntryBody = Buffer | AsyncIterable<Buffer>;

export interface ArchiveSink {
  directory(path: string): void | Promise<void>;
  /** Must consume `body` completely. `path` is relative to the archive (not the package root); `size` is the declared (and enforced) size. */
  file(path: string, mode: number, body: EntryBody, size: number): void | Promise<void>;
}

export interface ScannedArchive {
  /** "" or the single top-level directory wrapping the package. */
  wrapper: string;
  kind: PackageKind;
  /** Manifest path relative to the package root ("addon.yaml", "profile.yaml" or "stack.yaml"). */
  manifestFile: string;
  manifestText: string;
  files: ArchiveFile[];
  directories: string[];
  digest: Sha256Digest;
  size: number;
  checksumsVerified: boolean;
}

/** Largest manifest kept in memory, largest checksums file, and most bytes kept in memory in total. */
const MAX_MANIFEST = 1024 * 1024;
const MAX_CHECKSUMS = 32 * 1024 * 1024;
const MAX_CAPTURED_TOTAL = 64 * 1024 * 1024;

function rejectPath(raw: string, reason: string, why: string): never {
  throw new IntegrityError(reason, `archive entry ${JSON.stringify(raw)} ${why}`, {
    entry: raw,
    hint: "the archive is hostile or corrupt; it was not extracted",
  });
}

/** An entry's name, checked by the package path rules (entry-path.ts) and normalised. */
export function normaliseEntryPath(raw: string, isDirectory: boolean): string {
  const checked = checkEntryPath(raw, isDirectory);
  if ("why" in checked) rejectPath(raw, checked.reason, checked.why);
  return checked.path;
}

function registerPath(registry: PathRegistry, path: string, kind: "file" | "dir", raw: string): void {
  const broken = registry.add(path, kind);
  if (broken !== undefined) rejectPath(raw, broken.reason, broken.why);
}

function rejectType(entry: TarEntry): never {
  const byType: Record<string, [string, string]> = {
    symlink: ["symlink", `is a symbolic link (to ${JSON.stringify(entry.linkpath ?? "")})`],
    hardlink: ["hardlink", `is a hard link (to ${JSON.stringify(entry.linkpath ?? "")})`],
    "char-device": ["device", "is a character device"],
    "block-device": ["device", "is a block device"],
    fifo: ["fifo", "is a FIFO"],
  };
  const [reason, why] = byType[entry.type] ?? [
    "unsupported-entry-type",
    `has unsupported tar entry type ${JSON.stringify(entry.typeflag)}`,
  ];
  throw new IntegrityError(
    reason,
    `archive entry ${JSON.stringify(entry.path)} ${why}; packages may only contain regular files and directories`,
    {
      entry: entry.path,
      hint: "the archive is hostile or corrupt; it was not extracted",
    },
  );
}

/** Name the package file in integrity errors that do not say where they happened. */
function withWhere(err: unknown, input: PackageSource): unknown {
  if (!(err instanceof IntegrityError) || err.where !== undefined || typeof input !== "string") return err;
  return new IntegrityError(err.reason, err.message, { entry: err.entry, hint: err.hint, where: input, cause: err.cause });
}

/** The one top-level name shared by every path, or undefined when there are several (or none). */
function singleTopName(files: readonly ArchiveFile[], directories: readonly string[]): string | undefined {
  let top: string | undefined;
  const sameTop = (p: string): boolean => {
    const slash = p.indexOf("/");
    const name = slash < 0 ? p : p.slice(0, slash);
    top ??= name;
    return name === top;
  };
  for (const f of files) if (!sameTop(f.path)) return undefined;
  for (const d of directories) if (!sameTop(d)) return undefined;
  return top;
}

export async function scanArchive(input: PackageSource, limits: ExtractLimits, sink?: ArchiveSink): Promise<ScannedArchive> {
  try {
    return await scanArchiveInner(input, limits, sink);
  } catch (err) {
    throw withWhere(err, input);
  }
}

/** Every entry of a gzipped tar checked as a package's are, with no package layout (e.g. a Helm chart archive). */
export interface ScannedFiles {
  /** Paths relative to the archive root, in archive order. */
  files: ArchiveFile[];
  directories: string[];
  digest: Sha256Digest;
  size: number;
}

/**
 * The entry rules of scanArchive (paths, entry types, collisions, limits, gzip and tar integrity) for an
 * archive that is not a package: no manifest, no checksums file, any layout.
 */
export async function scanFiles(input: PackageSource, limits: ExtractLimits, sink?: ArchiveSink): Promise<ScannedFiles> {
  try {
    const scanned = await scanEntries(input, limits, sink);
    return {
      files: scanned.files.map(({ path, size, mode }) => ({ path, size, mode })),
      directories: scanned.directories,
      digest: scanned.digest,
      size: scanned.size,
    };
  } catch (err) {
    throw withWhere(err, input);
  }
}

interface ScannedEntries {
  files: (ArchiveFile & { hash: string })[];
  directories: string[];
  /** Manifests and checksums files near the root, kept in memory for the package layout checks. */
  captured: Map<string, Buffer>;
  digest: Sha256Digest;
  size: number;
}

async function scanEntries(input: PackageSource, limits: ExtractLimits, sink?: ArchiveSink): Promise<ScannedEntries> {
  const files: (ArchiveFile & { hash: string })[] = [];
  const directories: string[] = [];
  const captured = new Map<string, Buffer>();
  const registry = new PathRegistry();
  let entries = 0;
  let total = 0;
  let capturedTotal = 0;

  const consume = async (chunks: AsyncIterable<Buffer>, _stats: CompressedStats): Promise<void> => {
    try {
      for await (const entry of readTar(chunks, { maxMetaBytes: limits.maxMetaBytes })) {
        entries++;
        if (entries > limits.maxEntries) {
          throw new IntegrityError("too-many-entries", `archive has more than ${limits.maxEntries} entries`, {
            entry: entry.path,
            hint: "raise the maxEntries limit only for packages you trust",
          });
        }
        if (entry.type !== "file" && entry.type !== "directory") rejectType(entry);
        const path = normaliseEntryPath(entry.path, entry.type === "directory");
        if (entry.type === "directory") {
          if (path === "") continue; // "./": the archive root itself
          registerPath(registry, path, "dir", entry.path);
          directories.push(path);
          const done = sink?.directory(path);
          if (done !== undefined) await done;
          continue;
        }
        registerPath(registry, path, "file", entry.path);
        if (entry.size > limits.maxFileBytes) {
          throw new IntegrityError(
            "file-too-large",
            `archive entry ${JSON.stringify(entry.path)} is ${entry.size} bytes, over the ${limits.maxFileBytes}-byte limit`,
            {
              entry: entry.path,
            },
          );
        }
        total += entry.size;
        if (total > limits.maxTotalBytes) {
          throw new IntegrityError("total-too-large", `archive contents exceed ${limits.maxTotalBytes} bytes in total`, {
            entry: entry.path,
          });
        }
        const mode = entry.mode & 0o111 ? 0o755 : 0o644;
        const slash = path.lastIndexOf("/");
        const base = path.slice(slash + 1);
        const depth = slash < 0 ? 1 : slash === path.indexOf("/") ? 2 : 3;
        const isManifest = MANIFEST_NAMES.has(base);
        const capture =
          depth <= 2 &&
          ((isManifest && entry.size <= MAX_MANIFEST) || (base === CHECKSUMS_FILE && entry.size <= MAX_CHECKSUMS)) &&
          capturedTotal + entry.size <= MAX_CAPTURED_TOTAL;
        if (capture) capturedTotal += entry.size;
        let hex: string;
        const whole = entry.bufferedBody();
        if (whole !== undefined) {
          // Small files: the whole body is already in memory, no per-chunk async round trips.
          hex = hashOnce("sha256", whole, "hex");
          if (capture) captured.set(path, Buffer.from(whole));
          const done = sink?.file(path, mode, whole, entry.size);
          if (done !== undefined) await done;
        } else {
          const hash = createHash("sha256");
          const parts: Buffer[] = [];
          const body = async function* (): AsyncGenerator<Buffer> {
            for await (const chunk of entry.body()) {
              hash.update(chunk);
              if (capture) parts.push(Buffer.from(chunk));
              yield chunk;
            }
          };
          if (sink === undefined) {
            for await (const _ of body()) {
              // hash only
            }
          } else await sink.file(path, mode, body(), entry.size);
          if (capture) captured.set(path, Buffer.concat(parts));
          hex = hash.digest("hex");
        }
        files.push({ path, size: entry.size, mode, hash: hex });
      }
    } catch (err) {
      if (err instanceof TarFormatError) {
        throw new IntegrityError(err.reason, err.message, {
          entry: err.entry,
          hint: "the archive is corrupt or truncated; download it again",
        });
      }
      throw err;
    }
  };

  const { stats } = await readGzipped(input, limits, consume);
  return { files, directories, captured, digest: stats.digest as Sha256Digest, size: stats.compressedBytes };
}

async function scanArchiveInner(input: PackageSource, limits: ExtractLimits, sink?: ArchiveSink): Promise<ScannedArchive> {
  const { files, directories, captured, digest, size } = await scanEntries(input, limits, sink);

  // Layout: manifest at the root, or everything under one top directory (DESIGN §2).
  const top = singleTopName(files, directories);
  const rootManifests = files.filter((f) => MANIFEST_NAMES.has(f.path));
  let wrapper = "";
  let manifests = rootManifests;
  if (rootManifests.length === 0 && top !== undefined && !files.some((f) => !f.path.includes("/"))) {
    wrapper = top;
    manifests = files.filter((f) => f.path.startsWith(`${wrapper}/`) && MANIFEST_NAMES.has(f.path.slice(wrapper.length + 1)));
  }
  if (manifests.length === 0) {
    const nested = files.filter((f) => MANIFEST_NAMES.has(f.path.slice(f.path.lastIndexOf("/") + 1))).map((f) => f.path);
    throw new IntegrityError(
      "no-manifest",
      `not a package: no ${MANIFEST_LIST} at the archive root${nested.length > 0 ? ` (found ${nested.slice(0, 5).join(", ")} in subdirectories)` : ""}`,
      { hint: "a package has its manifest at the root, or all entries under one top directory" },
    );
  }
  if (manifests.length > 1) {
    throw new IntegrityError("multiple-manifests", `not a package: it has both ${manifests.map((m) => m.path).join(" and ")}`, {
      entry: manifests[1]?.path,
      hint: "a package is one of an add-on, a profile or a stack",
    });
  }
  const manifest = manifests[0] as ArchiveFile;
  const prefix = wrapper === "" ? "" : `${wrapper}/`;
  const relFiles = (prefix === "" ? files : files.map((f) => ({ ...f, path: f.path.slice(prefix.length) }))).sort((a, b) =>
    compareText(a.path, b.path),
  );
  const relDirs = directories
    .filter((d) => d !== wrapper)
    .map((d) => d.slice(prefix.length))
    .sort(compareText);

  const checksumsText = captured.get(`${prefix}${CHECKSUMS_FILE}`);
  const hasChecksums = relFiles.some((f) => f.path === CHECKSUMS_FILE);
  if (hasChecksums) {
    if (checksumsText === undefined)
      throw new IntegrityError("checksums-malformed", `${CHECKSUMS_FILE} is larger than ${MAX_CHECKSUMS} bytes`, { entry: CHECKSUMS_FILE });
    verifyFileChecksums(parseChecksums(checksumsText.toString("utf8")), relFiles);
  }
  const manifestBuf = captured.get(manifest.path);
  if (manifestBuf === undefined) {
    throw new IntegrityError("manifest-too-large", `${manifest.path} is larger than ${MAX_MANIFEST} bytes`, { entry: manifest.path });
  }
  const manifestFile = manifest.path.slice(prefix.length);
  return {
    wrapper,
    kind: KIND_OF_MANIFEST.get(manifestFile) as PackageKind,
    manifestFile,
    manifestText: manifestBuf.toString("utf8"),
    files: relFiles.map(({ path, size, mode }) => ({ path, size, mode })),
    directories: relDirs,
    digest,
    size,
    checksumsVerified: hasChecksums,
  };
}
