/**
 * HTTP(S) transport on undici with the security rules of DESIGN.md §6:
 * - redirects are followed here (at most 5) so the Authorization header can
 *   be dropped as soon as the origin changes, and https→http is refused;
 * - credentials are only ever attached to the catalog's own origin;
 * - connect and idle timeouts; HTTP(S)_PROXY / NO_PROXY honoured.
 */
import { ExitCode, NotFoundError, Pk3sError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { Agent, type Dispatcher, EnvHttpProxyAgent, request } from "undici";
import { displayUrl, type Fetcher, type FetchRequest, type FetchResponse, RetryableFetchError } from "./fetcher.js";
import { classifyNetworkError, type TimeoutSettings } from "./network-errors.js";

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface HttpFetcherOptions extends TimeoutSettings {
  /** Upper bound for a server's Retry-After. */
  maxRetryAfterMs: number;
  userAgent: string;
}

function hasProxyEnv(): boolean {
  return ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"].some((k) => (process.env[k] ?? "") !== "");
}

export function createDispatcher(options: TimeoutSettings): Dispatcher {
  const common = {
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.idleTimeoutMs,
    bodyTimeout: options.idleTimeoutMs,
  };
  return hasProxyEnv() ? new EnvHttpProxyAgent(common) : new Agent(common);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Retry-After as milliseconds (delta-seconds or HTTP date), capped. */
export function parseRetryAfter(value: string | undefined, capMs: number, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  let ms: number;
  if (Number.isFinite(seconds)) ms = Math.max(0, seconds * 1000);
  else {
    const date = Date.parse(value);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - now);
  }
  return Math.min(ms, capMs);
}

export class HttpFetcher implements Fetcher {
  private dispatcher: Dispatcher | undefined;

  constructor(private readonly options: HttpFetcherOptions) {}

  private getDispatcher(): Dispatcher {
    this.dispatcher ??= createDispatcher(this.options);
    return this.dispatcher;
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  async open(req: FetchRequest): Promise<FetchResponse> {
    let url = new URL(req.url.toString());
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = { "user-agent": this.options.userAgent, accept: "*/*" };
      // The catalog's own origin only: never another origin, never after a redirect away from it.
      if (req.auth !== undefined && url.origin === req.auth.origin) headers.authorization = req.auth.authorization;
      if (req.etag !== undefined) headers["if-none-match"] = req.etag;
      if (req.lastModified !== undefined) headers["if-modified-since"] = req.lastModified;

      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { method: "GET", headers, dispatcher: this.getDispatcher() });
      } catch (err) {
        throw classifyNetworkError(err, url, req.label, this.options);
      }
      const status = res.statusCode;
      const discard = async (): Promise<void> => {
        await res.body.dump().catch(() => undefined);
      };

      if (REDIRECT_STATUSES.has(status)) {
        await discard();
        const location = header(res.headers, "location");
        if (location === undefined)
          throw new StepFailedError(`${req.label}: redirect ${status} without a Location from ${displayUrl(url)}`);
        const next = new URL(location, url);
        if (url.protocol === "https:" && next.protocol !== "https:") {
          throw new Pk3sError(
            "E_INSECURE_REDIRECT",
            ExitCode.failed,
            `${req.label}: refused redirect from https to ${next.protocol.replace(":", "")}`,
            {
              where: `${displayUrl(url)} -> ${displayUrl(next)}`,
              hint: "the server tried to downgrade the connection; ask the catalog owner to serve the file over https",
            },
          );
        }
        if (next.protocol !== "https:" && next.protocol !== "http:") {
          throw new StepFailedError(`${req.label}: refused redirect to a ${next.protocol} URL`, { where: displayUrl(url) });
        }
        url = next;
        continue;
      }
      if (status === 304) {
        await discard();
        return { notModified: true, body: (async function* () {})(), url, discard: async () => undefined, ...this.validators(res, req) };
      }
      if (status >= 200 && status < 300) {
        const length = header(res.headers, "content-length");
        const size = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
        if (size !== undefined && req.maxBytes !== undefined && size > req.maxBytes) {
          await discard();
          throw new Pk3sError(
            "E_TOO_LARGE",
            ExitCode.integrity,
            `${req.label}: ${displayUrl(url)} is ${size} bytes, more than the expected ${req.maxBytes}`,
            {
              where: displayUrl(url),
            },
          );
        }
        return { notModified: false, body: res.body, size, url, discard, ...this.validators(res, req) };
      }
      await discard();
      throw this.statusError(status, url, req, res);
    }
    throw new StepFailedError(`${req.label}: more than ${MAX_REDIRECTS} redirects starting at ${displayUrl(req.url)}`, {
      where: displayUrl(url),
    });
  }

  private validators(res: Dispatcher.ResponseData, req: FetchRequest): { etag?: string; lastModified?: string } {
    const etag = header(res.headers, "etag") ?? (res.statusCode === 304 ? req.etag : undefined);
    const lastModified = header(res.headers, "last-modified") ?? (res.statusCode === 304 ? req.lastModified : undefined);
    return { ...(etag === undefined ? {} : { etag }), ...(lastModified === undefined ? {} : { lastModified }) };
  }

  private statusError(status: number, url: URL, req: FetchRequest, res: Dispatcher.ResponseData): Error {
    const shown = displayUrl(url);
    if (status === 429 || status >= 500) {
      const retryAfter = parseRetryAfter(header(res.headers, "retry-after"), this.options.maxRetryAfterMs);
      return new RetryableFetchError(`${req.label}: HTTP ${status} from ${shown}`, retryAfter);
    }
    if (status === 404 || status === 410) {
      return new NotFoundError(`${req.label}: not found (HTTP ${status}) at ${shown}`, { where: shown });
    }
    if (status === 401 || status === 403) {
      const sent = req.auth !== undefined && url.origin === req.auth.origin;
      return new Pk3sError("E_AUTH", ExitCode.failed, `${req.label}: access denied (HTTP ${status}) at ${shown}`, {
        where: shown,
        hint: sent
          ? "the credentials were rejected: check the token/password in the environment variable or credentials file configured for this catalog"
          : "this catalog needs credentials: pk3s catalog add <name> <url> --token-env VAR (or --username U --password-env VAR)",
      });
    }
    return new StepFailedError(`${req.label}: HTTP ${status} from ${shown}`, { where: shown });
  }
}
