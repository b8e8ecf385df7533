/**
 * What package validation reads through: a package's files, whether they sit
 * in a directory (a source tree or an extraction) or only in an archive that
 * was scanned once and never written to disk.
 *
 * Paths are package-relative, '/'-separated and already checked by the
 * caller (no `..`, not absolute); "" is the package root.
 */
import { lstat, realpath, stat } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { ValidationError } from "../errors.js";
import { readRegularText } from "../host/regular-file.js";
import type { ArchiveSink, EntryBody } from "./archive-scan.js";

/**
 * "outside": a symbolic link that resolves outside the package root.
 * "dangling": a symbolic link whose target does not exist.
 * undefined: nothing at that path.
 */
export type TreeEntryKind = "file" | "dir" | "other" | "outside" | "dangling";

export interface PackageTree {
  kind(rel: string): Promise<TreeEntryKind | undefined>;
  /** UTF-8 content of a file; undefined when it is missing or unreadable; a ValidationError when it is a FIFO, socket or device. */
  readText(rel: string): Promise<string | undefined>;
}

/** A package on disk. Symbolic links are followed only while they stay inside the root. */
export async function directoryTree(root: string): Promise<PackageTree> {
  const abs = resolve(root);
  const realRoot = await realpath(abs);
  return {
    async kind(rel) {
      const p = resolve(abs, rel);
      try {
        await lstat(p);
      } catch {
        return undefined;
      }
      let real: string;
      try {
        real = await realpath(p);
      } catch {
        return "dangling";
      }
      if (real !== realRoot && !real.startsWith(realRoot + sep)) return "outside";
      const s = await stat(real);
      return s.isFile() ? "file" : s.isDirectory() ? "dir" : "other";
    },
    async readText(rel) {
      // A FIFO, socket or device is refused (ValidationError), never read: opening a FIFO blocks.
      return readRegularText(resolve(abs, rel)).catch((err: unknown) => {
        if (err instanceof ValidationError) throw err;
        return undefined;
      });
    },
  };
}

/** Thrown by an archive tree asked for content it did not keep in memory (the caller falls back to extracting). */
export class ContentNotKeptError extends Error {
  constructor(readonly path: string) {
    super(`${path} was not kept in memory while scanning the archive`);
    this.name = "ContentNotKeptError";
  }
}

export interface KeepPolicy {
  /** Largest file kept in memory (default 256 KiB). */
  maxFileBytes: number;
  /** Most bytes kept in memory in total (default 16 MiB). Files validation reads (any Chart.yaml, profile.env) may use all of it; other files only half. */
  maxTotalBytes: number;
  /**
   * Keep only files with these base names (validatePackageArchive: READ_BY_VALIDATION, the only files
   * validatePackageTree reads); undefined keeps any file within the budget. Copying every small file of a
   * 20,000-file package cost ~45 ms and 12 MB of garbage for content nothing read.
   */
  onlyNames?: ReadonlySet<string> | undefined;
}

export const DEFAULT_KEEP_POLICY: Readonly<KeepPolicy> = Object.freeze({ maxFileBytes: 256 * 1024, maxTotalBytes: 16 * 1024 * 1024 });

/** Files that validation (validatePackageTree) reads, by base name: kept before any other file. */
export const READ_BY_VALIDATION: ReadonlySet<string> = new Set(["Chart.yaml", "profile.env", "addon.yaml", "profile.yaml"]);

/**
 * An ArchiveSink that records every file and directory of the archive and
 * keeps the content of small files, within a memory budget. `tree()` then
 * answers for the package root (after the wrapper directory, if any).
 */
export class ArchiveIndex implements ArchiveSink {
  readonly #policy: KeepPolicy;
  readonly #files = new Map<string, Buffer | undefined>();
  readonly #dirs = new Set<string>();
  #kept = 0;

  constructor(policy: Partial<KeepPolicy> = {}) {
    this.#policy = { ...DEFAULT_KEEP_POLICY, ...policy };
  }

  directory(path: string): void {
    this.#addDir(path);
  }

  /** Adds `path` and its ancestors; every ancestor of a recorded directory is recorded too. */
  #addDir(path: string): void {
    for (let p = path; p !== "" && !this.#dirs.has(p); p = p.slice(0, Math.max(0, p.lastIndexOf("/")))) this.#dirs.add(p);
  }

  file(path: string, _mode: number, body: EntryBody, size?: number): void | Promise<void> {
    const base = path.slice(path.lastIndexOf("/") + 1);
    const only = this.#policy.onlyNames;
    const budget = READ_BY_VALIDATION.has(base) ? this.#policy.maxTotalBytes : this.#policy.maxTotalBytes / 2;
    const keep =
      size !== undefined && (only === undefined || only.has(base)) && size <= this.#policy.maxFileBytes && this.#kept + size <= budget;
    if (Buffer.isBuffer(body)) {
      // A copy: `body` is a view into a larger decompressed chunk.
      this.#record(path, keep ? Buffer.from(body) : undefined, keep ? size : 0);
      return;
    }
    return this.#fileStreamed(path, body, keep ? size : undefined);
  }

  /** `keepSize`: the declared size when the content is kept, else undefined. */
  async #fileStreamed(path: string, body: AsyncIterable<Buffer>, keepSize: number | undefined): Promise<void> {
    const parts: Buffer[] = [];
    for await (const chunk of body) if (keepSize !== undefined) parts.push(Buffer.from(chunk));
    this.#record(path, keepSize === undefined ? undefined : parts.length === 1 ? parts[0] : Buffer.concat(parts), keepSize ?? 0);
  }

  #record(path: string, content: Buffer | undefined, bytes: number): void {
    this.#kept += bytes;
    this.#files.set(path, content);
    const slash = path.lastIndexOf("/");
    if (slash > 0) this.#addDir(path.slice(0, slash));
  }

  /** Bytes of file content held in memory. */
  get keptBytes(): number {
    return this.#kept;
  }

  /** The tree of the package root; `known` maps package-relative paths to content obtained elsewhere (the manifest). */
  tree(wrapper: string, known: ReadonlyMap<string, string> = new Map()): PackageTree {
    const prefix = wrapper === "" ? "" : `${wrapper}/`;
    const files = this.#files;
    const dirs = this.#dirs;
    return {
      async kind(rel) {
        if (rel === "") return "dir";
        const p = prefix + rel;
        return files.has(p) ? "file" : dirs.has(p) ? "dir" : undefined;
      },
      async readText(rel) {
        const text = known.get(rel);
        if (text !== undefined) return text;
        const p = prefix + rel;
        if (!files.has(p)) return undefined;
        const content = files.get(p);
        if (content === undefined) throw new ContentNotKeptError(rel);
        return content.toString("utf8");
      },
    };
  }
}
