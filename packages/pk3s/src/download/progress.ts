/**
 * Download progress on stderr, drawn by cli-progress and only on a TTY
 * (never in CI logs or pipes). The library is imported only when a bar is
 * actually drawn, so it costs nothing to commands that do not download.
 */

export interface Progress {
  advance(bytes: number): void;
  done(): void;
}

const NONE: Progress = { advance: () => undefined, done: () => undefined };

const MiB = 1024 * 1024;
const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

export async function createProgress(label: string, total: number | undefined, enabled = process.stderr.isTTY === true): Promise<Progress> {
  if (!enabled) return NONE;
  const { default: cliProgress } = await import("cli-progress");
  const known = total !== undefined && total > 0;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: known ? `${label} [{bar}] {percentage}% {done}/{size} MiB eta {eta_formatted}` : `${label} {done} MiB`,
      barsize: 24,
      fps: 10,
      hideCursor: true,
      clearOnComplete: false,
      // Colour-free characters: NO_COLOR and dumb terminals get the same bar.
      barCompleteChar: "#",
      barIncompleteChar: "-",
    },
    cliProgress.Presets.legacy,
  );
  let seen = 0;
  bar.start(known ? total : 1, 0, { done: mib(0), size: known ? mib(total) : "?" });
  return {
    advance(bytes) {
      seen += bytes;
      bar.update(known ? Math.min(seen, total) : 0, { done: mib(seen) });
    },
    done() {
      bar.stop();
      process.stderr.write("\n"); // keep the finished bar visible above what follows
    },
  };
}
