/**
 * HTTP(S) transport on Node's own `node:http`/`node:https` (native llhttp
 * parser; undici 7's parser crashed on servers that close the connection
 * after the body, nodejs/undici#5360), with the security rules of DESIGN.md §6:
 * - redirects are followed here (at most 5) so the Authorization header can
 *   be dropped as soon as the origin changes, and https→http is refused;
 * - credentials are only ever attached to the catalog's own origin, and no
 *   longer once a redirect has left it;
 * - connect and idle timeouts, an overall deadline and a minimum rate
 *   (`transfer-limits.ts`); HTTP(S)_PROXY / NO_PROXY honoured
 *   (`connection-pool.ts`);
 * - registry requests (`oci/`) add a method, headers, a body, their own CA
 *   certificates and statuses they answer themselves (a 401 challenge); a
 *   redirect is followed for GET and HEAD only.
 */
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { ExitCode, NotFoundError, Pk3sError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { ConnectionPool } from "./connection-pool.js";
import { displayUrl, type Fetcher, type FetchRequest, type FetchResponse, type RequestBody, RetryableFetchError } from "./fetcher.js";
import { classifyNetworkError } from "./network-errors.js";
import { RequestWatch } from "./request-watch.js";
import { formatSeconds, type TransferLimits } from "./transfer-limits.js";

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Bodies of redirects and errors up to this size are read off so the connection can be reused. */
const DRAIN_LIMIT = 64 * 1024;
const REDIRECTABLE_METHODS = new Set(["GET", "HEAD"]);

export interface HttpFetcherOptions extends TransferLimits {
  /** Upper bound for a server's Retry-After. */
  maxRetryAfterMs: number;
  userAgent: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
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

/** One outgoing request: its method, headers, optional body and the CA certificates trusted for it. */
interface Outgoing {
  method: string;
  headers: OutgoingHttpHeaders;
  body: RequestBody | undefined;
  ca: readonly string[] | undefined;
}

/** Write the body (counted by the watch, so a slow upload is held to the same rate), then end the request. */
async function writeBody(request: ClientRequest, body: RequestBody | undefined, watch: RequestWatch): Promise<void> {
  if (body === undefined) {
    request.end();
    return;
  }
  if (body instanceof Uint8Array) {
    watch.progress(body.byteLength);
    request.end(body);
    return;
  }
  for await (const chunk of body.stream) {
    if (request.destroyed) return;
    watch.progress(chunk.byteLength);
    if (!request.write(chunk)) await new Promise<void>((resolve) => request.once("drain", resolve).once("close", resolve));
  }
  request.end();
}

function bodyLength(body: RequestBody | undefined): number | undefined {
  if (body === undefined) return undefined;
  return body instanceof Uint8Array ? body.byteLength : body.length;
}

/** Let go of a response whose body is not wanted: drain a small one (keep-alive), cut a large one. */
function release(res: IncomingMessage): void {
  const length = Number(header(res.headers, "content-length") ?? Number.NaN);
  if (res.complete || (Number.isFinite(length) && length <= DRAIN_LIMIT)) res.resume();
  else res.destroy();
}

/** The response body, counted by the watch; a crossed limit surfaces as its own error. */
async function* watchedBody(res: IncomingMessage, watch: RequestWatch): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      watch.progress(chunk.byteLength);
      yield chunk;
    }
  } catch (err) {
    throw watch.failure ?? err;
  } finally {
    watch.stop();
    if (!res.complete) res.destroy();
  }
}

function timeoutError(label: string, url: URL, which: "connecting" | "waiting for data", limitMs: number): StepFailedError {
  const shown = displayUrl(url);
  const variable = which === "connecting" ? "PK3S_CONNECT_TIMEOUT" : "PK3S_HTTP_TIMEOUT";
  return new StepFailedError(`${label}: timed out after ${formatSeconds(limitMs)} ${which} (${shown})`, {
    where: shown,
    hint: `check the network or raise ${variable} (seconds)`,
  });
}

export class HttpFetcher implements Fetcher {
  private readonly pool: ConnectionPool;

  constructor(private readonly options: HttpFetcherOptions) {
    this.pool = new ConnectionPool(options.connectTimeoutMs);
  }

  async close(): Promise<void> {
    this.pool.close();
  }

  async open(req: FetchRequest): Promise<FetchResponse> {
    const watch = new RequestWatch(this.options, req.label, req.url, req.expectedBytes);
    try {
      return await this.follow(req, watch);
    } catch (err) {
      watch.stop();
      throw err;
    }
  }

  private async follow(req: FetchRequest, watch: RequestWatch): Promise<FetchResponse> {
    let url = new URL(req.url.toString());
    const method = req.method ?? "GET";
    // The catalog's own origin only: never another origin, and not even the same one after a redirect away from it.
    let mayAuthenticate = req.auth !== undefined;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (watch.failure !== undefined) throw watch.failure;
      mayAuthenticate &&= url.origin === req.auth?.origin;
      const headers: OutgoingHttpHeaders = { "user-agent": this.options.userAgent, accept: "*/*", ...req.headers };
      if (mayAuthenticate && req.auth !== undefined) headers.authorization = req.auth.authorization;
      if (req.etag !== undefined) headers["if-none-match"] = req.etag;
      if (req.lastModified !== undefined) headers["if-modified-since"] = req.lastModified;
      const body = req.body?.();
      const length = bodyLength(body);
      if (length !== undefined) headers["content-length"] = length;

      const res = await this.send(url, { method, headers, body, ca: req.ca }, req.label, watch);
      const status = res.statusCode ?? 0;

      if (REDIRECT_STATUSES.has(status) && REDIRECTABLE_METHODS.has(method)) {
        release(res);
        const location = header(res.headers, "location");
        if (location === undefined)
          throw new StepFailedError(`${req.label}: redirect ${status} without a Location from ${displayUrl(url)}`);
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new StepFailedError(`${req.label}: redirect ${status} to an invalid Location from ${displayUrl(url)}`);
        }
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
        release(res);
        watch.stop();
        return {
          notModified: true,
          body: (async function* () {})(),
          url,
          status,
          headers: res.headers,
          discard: async () => undefined,
          ...this.validators(res, req),
        };
      }
      if ((status >= 200 && status < 300) || req.returnStatus?.(status) === true) {
        const length = header(res.headers, "content-length");
        // A HEAD's Content-Length is the size of what a GET would send: nothing to cap here.
        const size = length !== undefined && /^\d+$/.test(length) && method !== "HEAD" ? Number(length) : undefined;
        if (size !== undefined && req.maxBytes !== undefined && size > req.maxBytes) {
          release(res);
          throw new Pk3sError(
            "E_TOO_LARGE",
            ExitCode.integrity,
            `${req.label}: ${displayUrl(url)} is ${size} bytes, more than the expected ${req.maxBytes}`,
            { where: displayUrl(url) },
          );
        }
        watch.expect(size);
        const discard = async (): Promise<void> => {
          watch.stop();
          res.destroy();
        };
        return {
          notModified: false,
          body: watchedBody(res, watch),
          size,
          url,
          status,
          headers: res.headers,
          discard,
          ...this.validators(res, req),
        };
      }
      release(res);
      throw this.statusError(status, url, req, res, headers.authorization !== undefined);
    }
    throw new StepFailedError(`${req.label}: more than ${MAX_REDIRECTS} redirects starting at ${displayUrl(req.url)}`, {
      where: displayUrl(url),
    });
  }

  /** One request: resolves with the response head; the body is read by the caller. */
  private send(url: URL, outgoing: Outgoing, label: string, watch: RequestWatch): Promise<IncomingMessage> {
    const { connectTimeoutMs, idleTimeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      const route = this.pool.route(url);
      const request = route.send({
        ...route.options,
        // Trusted CAs are part of https.Agent's pool key: a connection made with other CAs is never reused here.
        ...(outgoing.ca === undefined ? {} : { ca: [...outgoing.ca] }),
        method: outgoing.method,
        headers: { ...route.options.headers, ...outgoing.headers },
      });
      let response: IncomingMessage | undefined;
      let settled = false;
      const settle = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      // Tear the exchange down with `err`: a body being read fails with it, a pending head rejects with it.
      const abort = (err: Error): void => {
        clearTimeout(connectTimer);
        response?.destroy(err);
        request.destroy(err);
        settle(err);
      };
      watch.attach(url, abort);
      const connectTimer = setTimeout(() => abort(timeoutError(label, url, "connecting", connectTimeoutMs)), connectTimeoutMs);
      request.once("socket", (socket) => {
        if (request.reusedSocket || (!socket.connecting && !("encrypted" in socket))) {
          clearTimeout(connectTimer);
          return;
        }
        socket.once("encrypted" in socket ? "secureConnect" : "connect", () => clearTimeout(connectTimer));
      });
      request.setTimeout(idleTimeoutMs, () => abort(timeoutError(label, url, "waiting for data", idleTimeoutMs)));
      // Stays attached for the whole exchange: a socket error after the head must not go unhandled.
      request.on("error", (err) => {
        clearTimeout(connectTimer);
        settle(watch.failure ?? classifyNetworkError(err, url, label));
      });
      request.once("response", (res) => {
        clearTimeout(connectTimer);
        response = res;
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        resolve(res);
      });
      writeBody(request, outgoing.body, watch).catch((err: unknown) => abort(err instanceof Error ? err : new Error(String(err))));
    });
  }

  private validators(res: IncomingMessage, req: FetchRequest): { etag?: string; lastModified?: string } {
    const etag = header(res.headers, "etag") ?? (res.statusCode === 304 ? req.etag : undefined);
    const lastModified = header(res.headers, "last-modified") ?? (res.statusCode === 304 ? req.lastModified : undefined);
    return { ...(etag === undefined ? {} : { etag }), ...(lastModified === undefined ? {} : { lastModified }) };
  }

  private statusError(status: number, url: URL, req: FetchRequest, res: IncomingMessage, sentAuth: boolean): Error {
    const shown = displayUrl(url);
    if (status === 429 || status >= 500) {
      const retryAfter = parseRetryAfter(header(res.headers, "retry-after"), this.options.maxRetryAfterMs);
      return new RetryableFetchError(`${req.label}: HTTP ${status} from ${shown}`, retryAfter);
    }
    if (status === 404 || status === 410) {
      return new NotFoundError(`${req.label}: not found (HTTP ${status}) at ${shown}`, { where: shown });
    }
    if (status === 401 || status === 403) {
      return new Pk3sError("E_AUTH", ExitCode.failed, `${req.label}: access denied (HTTP ${status}) at ${shown}`, {
        where: shown,
        hint: sentAuth
          ? "the credentials were rejected: check the token/password in the environment variable or credentials file configured for this catalog"
          : "this catalog needs credentials: pk3s catalog add <name> <url> --token-env VAR (or --username U --password-env VAR)",
      });
    }
    return new StepFailedError(`${req.label}: HTTP ${status} from ${shown}`, { where: shown });
  }
}
