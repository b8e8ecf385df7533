/**
 * One object that knows how to fetch any catalog or package URL, built from
 * the environment: the time limits of `transfer-limits.ts`
 * (PK3S_CONNECT_TIMEOUT, PK3S_HTTP_TIMEOUT, PK3S_HTTP_DEADLINE,
 * PK3S_HTTP_MIN_RATE, PK3S_HTTP_RATE_WINDOW), PK3S_HTTP_RETRIES (tries,
 * default 3), PK3S_RETRY_AFTER_MAX (seconds, default 30). `oci://` URLs go
 * to the registries (`../oci/`), which use this same transport for HTTP.
 */
import { UsageError } from "@productive-k3s/pkg-format/errors";
import type { OciFetcher } from "../oci/oci-fetcher.js";
import type { Registries } from "../oci/registries.js";
import type { RegistryFlags } from "../oci/registry-settings.js";
import { fetchWithRetries, type RetryPolicy } from "./fetch-with-retries.js";
import type { Fetcher, FetchRequest, FetchResponse } from "./fetcher.js";
import { FileFetcher } from "./file-fetcher.js";
import type { HttpFetcher, HttpFetcherOptions } from "./http-fetcher.js";
import { envSeconds, type TransferLimits, transferLimitsFromEnv } from "./transfer-limits.js";

export interface TransportOptions {
  /** Worked out on the first http(s) request (pk3s's version is read from its package.json): offline commands never ask. */
  userAgent: () => string;
  onRetry?: RetryPolicy["onRetry"];
  /** `--ca-file` / `--plain-http` for the OCI registries this command reaches. */
  registry?: RegistryFlags | undefined;
}

export class Transport implements Fetcher {
  readonly limits: TransferLimits;
  readonly policy: RetryPolicy;
  private readonly file = new FileFetcher();
  private readonly httpOptions: Omit<HttpFetcherOptions, "userAgent">;
  private readonly userAgent: () => string;
  /** The HTTP fetcher is loaded on the first http(s) request: commands on local catalogs never pay for it. */
  private http: Promise<HttpFetcher> | undefined;
  /** Likewise the registry clients, on the first oci:// request. */
  private oci: Promise<OciFetcher> | undefined;
  private readonly registryFlags: RegistryFlags;

  constructor(options: TransportOptions) {
    this.registryFlags = options.registry ?? {};
    this.limits = transferLimitsFromEnv();
    const triesRaw = process.env.PK3S_HTTP_RETRIES;
    const tries = triesRaw === undefined || triesRaw === "" ? 3 : Number(triesRaw);
    if (!Number.isInteger(tries) || tries < 1 || tries > 10)
      throw new UsageError(`PK3S_HTTP_RETRIES must be an integer from 1 to 10, got "${triesRaw}"`);
    this.policy = { tries, baseDelayMs: 250, onRetry: options.onRetry };
    this.httpOptions = { ...this.limits, maxRetryAfterMs: envSeconds("PK3S_RETRY_AFTER_MAX", 30) };
    this.userAgent = options.userAgent;
  }

  open(request: FetchRequest): Promise<FetchResponse> {
    const protocol = request.url.protocol;
    if (protocol === "file:") return this.file.open(request);
    if (protocol === "http:" || protocol === "https:") {
      this.http ??= import("./http-fetcher.js").then((m) => new m.HttpFetcher({ ...this.httpOptions, userAgent: this.userAgent() }));
      return this.http.then((http) => http.open(request));
    }
    if (protocol === "oci:") return this.ociFetcher().then((oci) => oci.open(request));
    throw new UsageError(`${request.label}: unsupported URL scheme "${protocol}" in ${request.url.toString()}`, {
      hint: "catalogs and packages are fetched from http://, https://, oci://, file:// URLs or local paths",
    });
  }

  private ociFetcher(): Promise<OciFetcher> {
    this.oci ??= Promise.all([import("../oci/oci-fetcher.js"), import("../oci/registries.js")]).then(
      ([f, r]) => new f.OciFetcher(new r.Registries(this, this.registryFlags)),
    );
    return this.oci;
  }

  /** The OCI registries of this command (one client per host: scheme, challenge and tokens learnt once). */
  async registries(): Promise<Registries> {
    return (await this.ociFetcher()).registries;
  }

  /** Open and consume with bounded retries (the whole body is re-read on a retry). */
  fetch<T>(request: FetchRequest, consume: (response: FetchResponse) => Promise<T>): Promise<T> {
    return fetchWithRetries(this, request, this.policy, consume);
  }

  async close(): Promise<void> {
    if (this.http !== undefined) await (await this.http).close();
  }
}
