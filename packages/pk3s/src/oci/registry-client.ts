/**
 * One registry (`host[:port]`) over the shared transport (timeouts, proxies, retries of 5xx/429 and
 * broken connections, credentials dropped on a redirect to another origin, `http-fetcher.ts`):
 *
 * - the scheme: https, with the registry's CAs (`registry-settings.ts`); plain http only with
 *   --plain-http / `plainHttp`, or for a loopback registry that does not speak TLS;
 * - the first request is `GET /v2/` (as docker does): it proves the host is a registry and brings the
 *   challenge, so later requests carry their authorization from the start (`registry-auth.ts`);
 * - every request names its token scope; a 401 is answered once (a fresh token, or Basic), then refused;
 * - a registry's error answers become typed errors: 404 → not found (exit 3), 401/403 → auth (exit 1),
 *   other 4xx → the registry's own error code and message (exit 1).
 */
import { ExitCode, NotFoundError, Pk3sError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { displayUrl, type FetchRequest, type FetchResponse, type RequestBody } from "../fetch/fetcher.js";
import { errorCode, TLS_TRUST_CODES } from "../fetch/network-errors.js";
import type { Transport } from "../fetch/transport.js";
import { isLoopbackRegistry } from "./reference.js";
import { authError, parseChallenge, type RegistryAuth } from "./registry-auth.js";
import type { RegistryConnection } from "./registry-settings.js";

export interface RegistryRequest {
  method?: string | undefined;
  /** `/v2/…` on the registry, or an absolute URL the registry gave (an upload's Location). */
  path: string;
  /** Token scope (`repository:x:pull`). */
  scope: string;
  /** For messages: "manifest team/addons/x:1.0.0". */
  label: string;
  headers?: Record<string, string> | undefined;
  body?: (() => RequestBody) | undefined;
  maxBytes?: number | undefined;
  expectedBytes?: number | undefined;
}

/** Errors that mean "this https endpoint speaks plain HTTP". */
const PLAIN_HTTP_CODES = new Set(["ERR_SSL_WRONG_VERSION_NUMBER", "EPROTO", "ERR_SSL_PACKET_LENGTH_TOO_LONG"]);
const ERROR_BODY_MAX = 64 * 1024;

function header(res: FetchResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"…"}]}` → "MANIFEST_UNKNOWN: …", or undefined. */
export async function registryErrorText(res: FetchResponse): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > ERROR_BODY_MAX) break;
    chunks.push(Buffer.from(chunk));
  }
  try {
    const doc = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = doc.errors?.[0];
    if (first === undefined) return undefined;
    return [first.code, first.message].filter((x) => typeof x === "string" && x !== "").join(": ");
  } catch {
    return undefined;
  }
}

export class RegistryClient {
  private base: Promise<URL> | undefined;

  constructor(
    readonly registry: string,
    private readonly transport: Transport,
    private readonly connection: RegistryConnection,
    readonly auth: RegistryAuth,
  ) {}

  /** `https://host` (or `http://host`), settled by the first `GET /v2/`. */
  baseUrl(): Promise<URL> {
    this.base ??= this.resolveBase();
    return this.base;
  }

  private async resolveBase(): Promise<URL> {
    const http = new URL(`http://${this.registry}`);
    const https = new URL(`https://${this.registry}`);
    if (this.connection.plainHttp) {
      await this.ping(http);
      return http;
    }
    try {
      await this.ping(https);
      return https;
    } catch (err) {
      const code = errorCode(err);
      if (code !== undefined && PLAIN_HTTP_CODES.has(code)) {
        if (isLoopbackRegistry(this.registry)) {
          await this.ping(http);
          return http;
        }
        throw new StepFailedError(`registry ${this.registry} does not speak TLS (${code})`, {
          where: this.registry,
          hint: `if it really serves plain HTTP (credentials and packages unencrypted on the network), pass --plain-http or run: pk3s registry set ${this.registry} --plain-http`,
        });
      }
      if (code !== undefined && TLS_TRUST_CODES.has(code)) {
        const using = this.connection.caFiles.length === 0 ? "the system CAs" : this.connection.caFiles.join(", ");
        throw new StepFailedError(`registry ${this.registry}: its TLS certificate is not trusted by ${using} (${code})`, {
          where: this.registry,
          hint: `trust the CA that signed it: --ca-file CA.pem, or pk3s registry set ${this.registry} --ca-file CA.pem`,
        });
      }
      throw err;
    }
  }

  /** `GET /v2/`: a registry answers 200, or 401 with its challenge. */
  private async ping(base: URL): Promise<void> {
    const url = new URL("/v2/", base);
    const result = await this.transport.fetch(
      this.fetchRequest(url, { path: "/v2/", scope: "", label: `registry ${this.registry}` }, undefined),
      async (res) => {
        const challenge = header(res, "www-authenticate");
        await res.discard();
        return { status: res.status, challenge };
      },
    );
    if (result.status === 200) return;
    if (result.status === 401) {
      this.auth.learn(parseChallenge(result.challenge));
      return;
    }
    throw new StepFailedError(`${displayUrl(url)} is not an OCI registry (GET /v2/ answered HTTP ${result.status})`, {
      where: displayUrl(url),
      hint: "check the host and port of the oci:// reference",
    });
  }

  private fetchRequest(url: URL, req: RegistryRequest, authorization: string | undefined): FetchRequest {
    return {
      url,
      label: req.label,
      method: req.method,
      headers: req.headers,
      body: req.body,
      ca: this.connection.ca,
      maxBytes: req.maxBytes,
      expectedBytes: req.expectedBytes,
      // Bound to the registry's own origin: a redirect elsewhere (blob storage) goes without it.
      auth: authorization === undefined ? undefined : { origin: url.origin, authorization },
      // 5xx and 429 stay with the transport (retried); the rest is answered here.
      returnStatus: (status) => status < 500 && status !== 429,
    };
  }

  private async urlOf(req: RegistryRequest): Promise<URL> {
    const base = await this.baseUrl();
    const url = new URL(req.path, base);
    // A registry behind a TLS-terminating proxy may name its own upload URLs http://: same host, our scheme.
    if (url.host === base.host && url.protocol !== base.protocol) url.protocol = base.protocol;
    if (url.host !== base.host) {
      throw new StepFailedError(`registry ${this.registry} sent ${req.label} elsewhere (${displayUrl(url)}): refused`, {
        where: displayUrl(url),
      });
    }
    return url;
  }

  /**
   * Open a response (the body unread): any status but 401, which is answered once with new authorization.
   * The caller reads or discards the body; `check` turns an error status into the typed error.
   */
  async open(req: RegistryRequest): Promise<FetchResponse> {
    const url = await this.urlOf(req);
    let authorization = await this.auth.authorization(req.scope);
    for (let round = 0; ; round++) {
      const res = await this.transport.open(this.fetchRequest(url, req, authorization));
      if (res.status !== 401) return res;
      const challenge = header(res, "www-authenticate");
      await res.discard();
      if (round === 1) throw this.auth.refused(req.scope);
      authorization = await this.auth.answer(challenge, req.scope, authorization);
    }
  }

  /** Open, hand the response to `consume`, retrying (transport policy) when the exchange breaks. */
  async fetch<T>(req: RegistryRequest, consume: (res: FetchResponse) => Promise<T>): Promise<T> {
    const url = await this.urlOf(req);
    let authorization = await this.auth.authorization(req.scope);
    for (let round = 0; ; round++) {
      const outcome = await this.transport.fetch(this.fetchRequest(url, req, authorization), async (res) => {
        if (res.status !== 401) return { done: true as const, value: await consume(res) };
        const challenge = header(res, "www-authenticate");
        await res.discard();
        return { done: false as const, challenge };
      });
      if (outcome.done) return outcome.value;
      if (round === 1) throw this.auth.refused(req.scope);
      authorization = await this.auth.answer(outcome.challenge, req.scope, authorization);
    }
  }

  /**
   * Prove the client's credential to the registry, as `docker login` does: a token from its token service,
   * or `GET /v2/` with Basic. "not-required": the registry asked for nothing (anonymous access).
   */
  async verifyLogin(): Promise<"verified" | "not-required"> {
    await this.baseUrl();
    const scheme = this.auth.challengeScheme;
    if (scheme === undefined) return "not-required";
    if (scheme === "bearer") {
      await this.auth.verifyWithTokenService();
      return "verified";
    }
    const req: RegistryRequest = { path: "/v2/", scope: "", label: `registry ${this.registry}` };
    await this.fetch(req, async (res) => {
      await res.discard();
      await this.check(res, req);
    });
    return "verified";
  }

  /** Throw the typed error for a non-2xx answer (reading the registry's error body). */
  async check(res: FetchResponse, req: RegistryRequest, notFound?: () => Pk3sError): Promise<void> {
    if (res.status >= 200 && res.status < 300) return;
    const detail = await registryErrorText(res).catch(() => undefined);
    const where = `${this.registry} (${displayUrl(res.url)})`;
    const suffix = detail === undefined ? "" : `: ${detail}`;
    if (res.status === 404) {
      throw notFound?.() ?? new NotFoundError(`${req.label} not found in registry ${this.registry}${suffix}`, { where });
    }
    if (res.status === 403) {
      const user = this.auth.username;
      throw authError(
        `registry ${this.registry} denied ${req.label}${user === undefined ? "" : ` to user "${user}"`} (HTTP 403)${suffix}`,
        where,
        user === undefined
          ? `log in: pk3s registry login ${this.registry} --username USER --password-stdin`
          : "ask the registry's administrator for access",
      );
    }
    throw new Pk3sError("E_REGISTRY", ExitCode.failed, `registry ${this.registry} refused ${req.label} (HTTP ${res.status})${suffix}`, {
      where,
    });
  }
}

/** The `Location` of a response, made absolute against its URL. */
export function locationOf(res: FetchResponse): string | undefined {
  const v = header(res, "location");
  return v === undefined ? undefined : new URL(v, res.url).toString();
}

export function headerOf(res: FetchResponse, name: string): string | undefined {
  return header(res, name);
}
