/**
 * Bounded read-ahead of source files for packing. Files are read in list
 * order in pieces of at most `pieceSize` bytes, with up to `depth` reads in
 * flight on libuv's threadpool, into a fixed pool of buffers: memory stays
 * at depth × pieceSize whatever the files' sizes. Every file is checked
 * against the size it was listed with (a read of the last piece asks for one
 * byte more, so a file that grew is seen without an extra read): a file that
 * shrank or grew since it was listed is a StepFailedError.
 */
import { createHash } from "node:crypto";
import { close, fstat, open, read } from "node:fs";
import { StepFailedError } from "../errors.js";
import { fileTypeName, NON_BLOCKING_READ, notRegularFileError } from "../host/regular-file.js";

export interface SourceFile {
  /** Package-relative path (for messages). */
  path: string;
  abs: string;
  /** The size the file was listed with. */
  size: number;
}

export interface FilePiece {
  /** Index of the file in the list given to readFilesAhead. */
  index: number;
  /** The bytes; valid only until the next piece is requested. */
  data: Buffer;
  /** The file's last piece (an empty file has one, empty, piece). */
  last: boolean;
}

export interface ReadAheadOptions {
  /** Largest read, in bytes (default 1 MiB). */
  pieceSize?: number;
  /** Reads in flight (default 16). */
  depth?: number;
}

export const DEFAULT_PIECE_SIZE = 1024 * 1024;
export const DEFAULT_READ_DEPTH = 16;

export function fileChangedError(file: SourceFile): StepFailedError {
  return new StepFailedError(`${file.path} changed while it was being packed`, {
    where: file.abs,
    hint: "pack again once the source is stable",
  });
}

/**
 * Open a listed file without ever blocking: the file may have been replaced by a FIFO since it was listed
 * (open(2) of a FIFO waits for a writer), so open non-blocking and check what was opened.
 */
function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    open(path, NON_BLOCKING_READ, (err, fd) => {
      if (err) return reject(err);
      fstat(fd, (statErr, st) => {
        const bad = statErr ?? (st.isFile() ? undefined : notRegularFileError(path, fileTypeName(st)));
        if (bad === undefined) return resolve(fd);
        close(fd, () => reject(bad));
      });
    }),
  );
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}

function readAt(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * Read into buffer[0, want) from `position`: at least once, then until `need` bytes are in or the file ends
 * (a short read once `need` bytes are in is taken as the end of the file, as for any regular file).
 */
async function readPiece(fd: number, buffer: Buffer, want: number, need: number, position: number): Promise<number> {
  let got = 0;
  do {
    const n = await readAt(fd, buffer, got, want - got, position + got);
    if (n === 0) break;
    got += n;
  } while (got < need);
  return got;
}

interface OpenFile {
  fd: Promise<number>;
  /** Scheduled reads not finished yet. */
  pending: number;
  /** The read of the last piece has been scheduled. */
  complete: boolean;
  closed: boolean;
}

interface ReadJob {
  index: number;
  buffer: Buffer;
  last: boolean;
  /** Bytes of the file in this piece. */
  promise: Promise<number>;
}

/** The pieces of `files`, in order, read ahead (see the module comment). */
export async function* readFilesAhead(files: readonly SourceFile[], options: ReadAheadOptions = {}): AsyncGenerator<FilePiece> {
  const pieceSize = options.pieceSize ?? DEFAULT_PIECE_SIZE;
  const depth = options.depth ?? DEFAULT_READ_DEPTH;
  if (!(Number.isSafeInteger(pieceSize) && pieceSize > 0 && Number.isSafeInteger(depth) && depth > 0)) {
    throw new RangeError(`readFilesAhead: bad pieceSize ${pieceSize} or depth ${depth}`);
  }
  // Buffers no bigger than the largest piece there is: packing a few small files need not allocate (and fault in)
  // depth × pieceSize bytes. (+1: the last piece of a file asks for one byte more, to see a file that grew.)
  const bufferSize =
    Math.min(
      pieceSize,
      files.reduce((max, f) => Math.max(max, f.size), 0),
    ) + 1;
  const pool: Buffer[] = [];
  const queue: ReadJob[] = [];
  const opened = new Map<number, OpenFile>();
  let nextFile = 0;
  let nextPosition = 0;

  const closing = new Set<Promise<void>>();
  /** Close the file once its last piece is scheduled and no read of it is in flight. */
  const release = (index: number, state: OpenFile): void => {
    if (state.closed || state.pending > 0 || !state.complete) return;
    state.closed = true;
    opened.delete(index);
    const done = state.fd.then(closeFd, () => undefined).finally(() => closing.delete(done));
    closing.add(done);
  };

  const start = async (
    file: SourceFile,
    index: number,
    state: OpenFile,
    buffer: Buffer,
    position: number,
    length: number,
    last: boolean,
  ) => {
    try {
      const fd = await state.fd;
      // The last piece asks for one byte more than the file should have left: getting it means the file grew.
      const got = await readPiece(fd, buffer, last ? length + 1 : length, length, position);
      if (got !== length) throw fileChangedError(file);
      return got;
    } finally {
      state.pending--;
      release(index, state);
    }
  };

  const schedule = (): void => {
    while (queue.length < depth && nextFile < files.length) {
      const index = nextFile;
      const file = files[index] as SourceFile;
      let state = opened.get(index);
      if (state === undefined) {
        state = { fd: openFd(file.abs), pending: 0, complete: false, closed: false };
        // A failed open is reported by the reads that wait for it.
        state.fd.catch(() => undefined);
        opened.set(index, state);
      }
      const position = nextPosition;
      const length = Math.min(pieceSize, file.size - position);
      const last = position + length >= file.size;
      const buffer = pool.pop() ?? Buffer.allocUnsafe(bufferSize);
      state.pending++;
      if (last) {
        state.complete = true;
        nextFile++;
        nextPosition = 0;
      } else {
        nextPosition = position + length;
      }
      const promise = start(file, index, state, buffer, position, length, last);
      // Awaited in order below; this keeps a failure further ahead from being an unhandled rejection meanwhile.
      promise.catch(() => undefined);
      queue.push({ index, buffer, last, promise });
    }
  };

  try {
    schedule();
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      const length = await job.promise;
      yield { index: job.index, data: job.buffer.subarray(0, length), last: job.last };
      pool.push(job.buffer);
      schedule();
    }
  } finally {
    // Stopped early or failed: let the reads in flight finish, then close what they left open.
    await Promise.allSettled(queue.map((j) => j.promise));
    for (const [index, state] of opened) {
      state.complete = true;
      release(index, state);
    }
    await Promise.all([...closing]);
  }
}

/** SHA-256 (hex) of every file, by path, read ahead with bounded memory. */
export async function hashSourceFiles(files: readonly SourceFile[], options?: ReadAheadOptions): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  let hash = createHash("sha256");
  for await (const piece of readFilesAhead(files, options)) {
    hash.update(piece.data);
    if (piece.last) {
      hashes.set((files[piece.index] as SourceFile).path, hash.digest("hex"));
      hash = createHash("sha256");
    }
  }
  return hashes;
}
