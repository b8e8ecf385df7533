/**
 * The tar stream of a package being packed, as large chunks for the
 * compressor: each entry's header, its bytes (files read ahead with bounded
 * memory, see source-read.ts) and padding, then the end-of-archive marker.
 * Every file is hashed on its way into the stream and must match the
 * checksum computed before (the one checksums.sha256 lists): a file changed
 * in between is a StepFailedError, never a package that lies.
 */
import { createHash } from "node:crypto";
import { fileChangedError, type ReadAheadOptions, readFilesAhead, type SourceFile } from "./source-read.js";
import { ChunkBuilder, END_OF_ARCHIVE, encodeHeader, paddingLength } from "./tar-write.js";

/** One archive entry, in archive order. */
export type TarItem =
  | { type: "directory"; path: string; mode: number }
  /** A source file; sha256 (hex) is what it must hash to. */
  | { type: "file"; path: string; abs: string; size: number; mode: number; sha256: string }
  /** A regular file whose bytes are in memory (checksums.sha256). */
  | { type: "bytes"; path: string; mode: number; data: Buffer };

export interface TarChunkOptions {
  /** Entry mtime, seconds. */
  mtime: number;
  /** Bytes per chunk (default 1 MiB; the last chunk is shorter). */
  chunkSize?: number;
  read?: ReadAheadOptions;
}

export const DEFAULT_CHUNK_SIZE = 1024 * 1024;

function itemSize(item: TarItem): number {
  return item.type === "file" ? item.size : item.type === "bytes" ? item.data.length : 0;
}

/** The uncompressed tar stream of `items`, in chunks of `chunkSize` bytes. */
export async function* tarChunks(items: readonly TarItem[], options: TarChunkOptions): AsyncGenerator<Buffer> {
  const files: SourceFile[] = items.filter((i): i is Extract<TarItem, { type: "file" }> => i.type === "file");
  const builder = new ChunkBuilder(options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const pieces = readFilesAhead(files, options.read);
  try {
    for (const item of items) {
      const size = itemSize(item);
      const type = item.type === "directory" ? "directory" : "file";
      yield* builder.append(encodeHeader({ path: item.path, type, size, mode: item.mode, mtime: options.mtime }));
      if (item.type === "directory") continue;
      if (item.type === "bytes") {
        yield* builder.append(item.data);
      } else {
        const hash = createHash("sha256");
        for (;;) {
          const next = await pieces.next();
          if (next.done === true) throw new Error(`internal error: no data read for ${item.path}`);
          hash.update(next.value.data);
          yield* builder.append(next.value.data);
          if (next.value.last) break;
        }
        if (hash.digest("hex") !== item.sha256) throw fileChangedError(item);
      }
      yield* builder.zeros(paddingLength(size));
    }
    yield* builder.append(END_OF_ARCHIVE);
    yield* builder.end();
  } finally {
    // Stopped early (a failure here or downstream): the reads in flight settle and their files are closed.
    await pieces.return(undefined);
  }
}
