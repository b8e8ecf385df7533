/**
 * One object that knows how to fetch any catalog or package URL, built from
 * the environment: PK3S_HTTP_TIMEOUT (idle, seconds, default 30),
 * PK3S_CONNECT_TIMEOUT (seconds, default 10), PK3S_HTTP_RETRIES (tries,
 * default 3), PK3S_RETRY_AFTER_MAX (seconds, default 30).
 */
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { fetchWithRetries, type RetryPolicy } from "./fetch-with-retries.js";
import type { Fetcher, FetchRequest, FetchResponse } from "./fetcher.js";
import { FileFetcher } from "./file-fetcher.js";
import type { HttpFetcher, HttpFetcherOptions } from "./http-fetcher.js";
import type { TimeoutSettings } from "./network-errors.js";

function seconds(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number of seconds, got "${raw}"`);
  return Math.round(n * 1000);
}

export interface TransportOptions {
  userAgent: string;
  onRetry?: RetryPolicy["onRetry"];
}

export class Transport implements Fetcher {
  readonly timeouts: TimeoutSettings;
  readonly policy: RetryPolicy;
  private readonly file = new FileFetcher();
  private readonly httpOptions: HttpFetcherOptions;
  /** undici is loaded on the first http(s) request: commands on local catalogs never pay for it. */
  private http: Promise<HttpFetcher> | undefined;

  constructor(options: TransportOptions) {
    this.timeouts = { connectTimeoutMs: seconds("PK3S_CONNECT_TIMEOUT", 10), idleTimeoutMs: seconds("PK3S_HTTP_TIMEOUT", 30) };
    const triesRaw = process.env.PK3S_HTTP_RETRIES;
    const tries = triesRaw === undefined || triesRaw === "" ? 3 : Number(triesRaw);
    if (!Number.isInteger(tries) || tries < 1 || tries > 10)
      throw new UsageError(`PK3S_HTTP_RETRIES must be an integer from 1 to 10, got "${triesRaw}"`);
    this.policy = { tries, baseDelayMs: 250, onRetry: options.onRetry };
    this.httpOptions = { ...this.timeouts, maxRetryAfterMs: seconds("PK3S_RETRY_AFTER_MAX", 30), userAgent: options.userAgent };
  }

  open(request: FetchRequest): Promise<FetchResponse> {
    const protocol = request.url.protocol;
    if (protocol === "file:") return this.file.open(request);
    if (protocol === "http:" || protocol === "https:") {
      this.http ??= import("./http-fetcher.js").then((m) => new m.HttpFetcher(this.httpOptions));
      return this.http.then((http) => http.open(request));
    }
    throw new UsageError(`${request.label}: unsupported URL scheme "${protocol}" in ${request.url.toString()}`, {
      hint: "catalogs and packages are fetched from http://, https://, file:// URLs or local paths",
    });
  }

  /** Open and consume with bounded retries (the whole body is re-read on a retry). */
  fetch<T>(request: FetchRequest, consume: (response: FetchResponse) => Promise<T>): Promise<T> {
    return fetchWithRetries(this, request, this.policy, this.timeouts, consume);
  }

  async close(): Promise<void> {
    if (this.http !== undefined) await (await this.http).close();
  }
}
