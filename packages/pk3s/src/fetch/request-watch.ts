/**
 * The clock on one HTTP(S) request, from the first connection to the last
 * body byte (redirects included): the overall deadline and the minimum
 * transfer rate of `transfer-limits.ts`. When a bound is crossed the watch
 * builds the error (naming the URL and the limit) and hands it to whoever
 * currently owns the connection, which tears it down with that error.
 */
import { StepFailedError } from "@productive-k3s/pkg-format/errors";
import { formatBytes } from "../output/byte-size.js";
import { displayUrl } from "./fetcher.js";
import { deadlineFor, formatSeconds, type TransferLimits } from "./transfer-limits.js";

export class RequestWatch {
  private readonly started = Date.now();
  private received = 0;
  private expected: number | undefined;
  private windowStartBytes = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private rateTimer: NodeJS.Timeout | undefined;
  private abortCurrent: ((err: Error) => void) | undefined;
  private url: URL;
  /** The first limit that was crossed; later transport errors are its consequences. */
  failure: Error | undefined;

  constructor(
    private readonly limits: TransferLimits,
    private readonly label: string,
    url: URL,
    expectedBytes: number | undefined,
  ) {
    this.url = url;
    this.expected = expectedBytes;
    this.scheduleDeadline();
    if (limits.minRate > 0) this.rateTimer = setInterval(() => this.checkRate(), limits.rateWindowMs);
  }

  /** The connection now being used (a redirect hop, then the body); `abort` tears it down. */
  attach(url: URL, abort: (err: Error) => void): void {
    this.url = url;
    this.abortCurrent = abort;
  }

  /** The server's Content-Length, when it sends one, replaces the catalog's expectation. */
  expect(bytes: number | undefined): void {
    if (bytes !== undefined) this.expected = bytes;
  }

  progress(bytes: number): void {
    this.received += bytes;
  }

  stop(): void {
    clearTimeout(this.deadlineTimer);
    clearInterval(this.rateTimer);
    this.deadlineTimer = undefined;
    this.rateTimer = undefined;
    this.abortCurrent = undefined;
  }

  private allowedMs(): number | undefined {
    return deadlineFor(this.limits, Math.max(this.expected ?? 0, this.received));
  }

  private scheduleDeadline(): void {
    const allowed = this.allowedMs();
    if (allowed === undefined) return;
    const left = this.started + allowed - Date.now();
    if (left <= 0) {
      this.fail(this.deadlineError(allowed));
      return;
    }
    // Re-checked when it fires: a size learnt later (Content-Length, bytes received) only moves it later.
    this.deadlineTimer = setTimeout(() => this.scheduleDeadline(), left);
  }

  private checkRate(): void {
    const moved = this.received - this.windowStartBytes;
    this.windowStartBytes = this.received;
    const floor = (this.limits.minRate * this.limits.rateWindowMs) / 1000;
    if (moved < floor) {
      this.fail(
        new StepFailedError(
          `${this.label}: transfer slower than ${formatBytes(this.limits.minRate)}/s over ${formatSeconds(this.limits.rateWindowMs)} ` +
            `(${formatBytes(moved)} in the last ${formatSeconds(this.limits.rateWindowMs)}) from ${displayUrl(this.url)}`,
          {
            where: displayUrl(this.url),
            hint: "the server or the network is too slow; on a slow link lower PK3S_HTTP_MIN_RATE (bytes/s, 0 = off) or lengthen PK3S_HTTP_RATE_WINDOW (seconds)",
          },
        ),
      );
    }
  }

  private deadlineError(allowedMs: number): Error {
    const size = this.expected ?? this.received;
    const scaled =
      this.limits.minRate > 0 && size > 0
        ? `PK3S_HTTP_DEADLINE ${formatSeconds(this.limits.deadlineMs)} + ${formatBytes(size)} at PK3S_HTTP_MIN_RATE ${formatBytes(this.limits.minRate)}/s`
        : `PK3S_HTTP_DEADLINE ${formatSeconds(this.limits.deadlineMs)}`;
    return new StepFailedError(
      `${this.label}: not finished within its ${formatSeconds(allowedMs)} deadline (${scaled}; ${formatBytes(this.received)} received) from ${displayUrl(this.url)}`,
      {
        where: displayUrl(this.url),
        hint: "the server is too slow; raise PK3S_HTTP_DEADLINE (seconds, 0 = off) or lower PK3S_HTTP_MIN_RATE (bytes/s)",
      },
    );
  }

  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    const abort = this.abortCurrent;
    this.stop();
    abort?.(err);
  }
}
