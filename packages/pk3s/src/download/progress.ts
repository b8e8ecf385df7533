/** A one-line download progress bar on stderr, drawn only when stderr is a TTY. */

export interface Progress {
  advance(bytes: number): void;
  done(): void;
}

const NONE: Progress = { advance: () => undefined, done: () => undefined };

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export function createProgress(label: string, total: number | undefined, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return NONE;
  let seen = 0;
  let last = 0;
  const draw = (): void => {
    const width = 24;
    const bar =
      total !== undefined && total > 0
        ? `[${"#".repeat(Math.round((Math.min(seen, total) / total) * width)).padEnd(width, " ")}] ${Math.floor((Math.min(seen, total) / total) * 100)}% ${mib(seen)}/${mib(total)}`
        : mib(seen);
    process.stderr.write(`\r\u001b[2K${label} ${bar}`);
  };
  return {
    advance(bytes) {
      seen += bytes;
      const now = Date.now();
      if (now - last >= 100) {
        last = now;
        draw();
      }
    },
    done() {
      draw();
      process.stderr.write("\n");
    },
  };
}
