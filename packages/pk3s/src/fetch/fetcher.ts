/**
 * The transport contract shared by the file and HTTP fetchers (pacote's
 * fetcher split): open a URL, get a body stream plus the metadata the caches
 * need. Retries live one level up (`fetch-with-retries.ts`) so a body that
 * breaks half-way is retried from the start with a fresh hash.
 */

/** Credentials for one catalog, bound to that catalog's origin. */
export interface OriginAuth {
  /** `scheme://host:port` of the catalog: the only origin the header is ever sent to. */
  origin: string;
  /** The full `Authorization` header value. Never logged. */
  authorization: string;
}

export interface FetchRequest {
  url: URL;
  /** Used in error messages: "catalog internal", "package longhorn@1.0.0". */
  label: string;
  auth?: OriginAuth | undefined;
  /** Conditional GET validators from a previous response. */
  etag?: string | undefined;
  lastModified?: string | undefined;
  /** Refuse bodies larger than this many bytes. */
  maxBytes?: number | undefined;
  /** The size the caller expects (a catalog entry's `size`): scales the request's deadline. */
  expectedBytes?: number | undefined;
  /**
   * Registry (OCI) requests: the method (default GET; redirects are followed for GET and HEAD only), extra
   * request headers (`accept`, `content-type`), a body made afresh for every attempt, the CA certificates
   * to trust for https (default: Node's), and the statuses handed back to the caller in the response
   * instead of becoming errors (a 401 whose challenge the registry client answers, a 404 it words itself).
   */
  method?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  body?: (() => RequestBody) | undefined;
  ca?: readonly string[] | undefined;
  returnStatus?: ((status: number) => boolean) | undefined;
}

/** A request body: bytes, or a stream of `length` bytes (a file being uploaded). */
export type RequestBody = Uint8Array | { stream: AsyncIterable<Uint8Array>; length: number };

export interface FetchResponse {
  /** 304 Not Modified: `body` is empty. */
  notModified: boolean;
  body: AsyncIterable<Uint8Array>;
  /** Content-Length (or file size) when known. */
  size?: number | undefined;
  etag?: string | undefined;
  lastModified?: string | undefined;
  /** Where the bytes finally came from (after redirects). */
  url: URL;
  /** The HTTP status (200 for files), and the response headers (lowercase names; none for files). */
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Release the underlying connection or file handle when the body is not consumed. */
  discard(): Promise<void>;
}

export interface Fetcher {
  open(request: FetchRequest): Promise<FetchResponse>;
}

/** A failure worth retrying: connection reset, 5xx, 429, body cut short. */
export class RetryableFetchError extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RetryableFetchError";
    this.retryAfterMs = retryAfterMs;
  }
}

/** A URL as it may be shown to a user: no userinfo, no query (which may carry signed tokens). */
export function displayUrl(url: URL | string): string {
  try {
    const u = new URL(String(url));
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.protocol === "file:" ? decodeURIComponent(u.pathname) : u.toString();
  } catch {
    return String(url);
  }
}
