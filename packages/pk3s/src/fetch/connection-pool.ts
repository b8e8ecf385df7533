/**
 * Keep-alive connections for the HTTP fetcher, on Node's own `node:http` /
 * `node:https` (native llhttp parser): one agent per route, reused for every
 * request of a command (catalog index, then packages from the same host).
 *
 * Routes: direct; plain http through a proxy (absolute-form request line
 * sent to the proxy); https through a proxy (a CONNECT tunnel per
 * connection, TLS to the origin inside it, so the proxy never sees the
 * bytes, and the tunnelled connections are pooled like direct ones).
 */
import { type ClientRequestArgs, Agent as HttpAgent, request as httpRequest, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, type RequestOptions as HttpsRequestOptions, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { proxyAuthorization, proxyFor } from "./proxy-env.js";

/** What `node:http(s).request` needs for one URL on its route. */
export interface Route {
  send: typeof httpRequest;
  options: HttpsRequestOptions;
  /** The proxy in use, for messages (no credentials). */
  proxy: string | undefined;
}

export class ProxyConnectError extends Error {
  readonly code: string;
  constructor(message: string, code = "EPROXYCONNECT") {
    super(message);
    this.name = "ProxyConnectError";
    this.code = code;
  }
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

function portOf(url: URL): number {
  return url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** An https agent whose connections are CONNECT tunnels through `proxy`. */
class TunnelAgent extends HttpsAgent {
  constructor(
    private readonly proxy: URL,
    private readonly connectTimeoutMs: number,
  ) {
    super({ keepAlive: true });
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | undefined {
    const done = callback ?? (() => undefined);
    const target = `${options.host ?? "localhost"}:${options.port ?? 443}`;
    const headers: OutgoingHttpHeaders = { host: target };
    const auth = proxyAuthorization(this.proxy);
    if (auth !== undefined) headers["proxy-authorization"] = auth;
    const send = this.proxy.protocol === "https:" ? httpsRequest : httpRequest;
    const connectReq = send({
      host: hostOf(this.proxy),
      port: portOf(this.proxy),
      method: "CONNECT",
      path: target,
      headers,
      agent: false,
      timeout: this.connectTimeoutMs,
    });
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      connectReq.destroy();
      done(err, undefined as unknown as Duplex);
    };
    connectReq.once("timeout", () =>
      fail(new ProxyConnectError(`proxy ${proxyLabel(this.proxy)} did not open a tunnel to ${target} in time`, "ETIMEDOUT")),
    );
    connectReq.once("error", (err) => fail(err));
    connectReq.once("response", (res) => {
      res.resume();
      fail(new ProxyConnectError(`proxy ${proxyLabel(this.proxy)} answered the CONNECT to ${target} with HTTP ${res.statusCode}`));
    });
    connectReq.once("connect", (res, socket: Socket, head: Buffer) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        fail(new ProxyConnectError(`proxy ${proxyLabel(this.proxy)} refused the tunnel to ${target} (HTTP ${res.statusCode})`));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      settled = true;
      socket.setTimeout(0);
      // TLS to the origin inside the tunnel; https.Agent's own method keeps its TLS session cache.
      const tls = super.createConnection({ ...options, socket } as ClientRequestArgs);
      done(null, tls as Duplex);
    });
    connectReq.end();
    return undefined;
  }
}

export class ConnectionPool {
  private readonly agents = new Map<string, HttpAgent>();

  constructor(private readonly connectTimeoutMs: number) {}

  private agent(key: string, make: () => HttpAgent): HttpAgent {
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = make();
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** How to send a request for `url`: target, agent and any proxy headers. */
  route(url: URL): Route {
    const proxy = proxyFor(url);
    const https = url.protocol === "https:";
    const path = url.pathname + url.search;
    if (proxy === undefined) {
      return {
        send: https ? httpsRequest : httpRequest,
        options: {
          host: hostOf(url),
          port: portOf(url),
          path,
          agent: this.agent(https ? "https" : "http", () =>
            https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true }),
          ),
        },
        proxy: undefined,
      };
    }
    if (https) {
      return {
        send: httpsRequest,
        options: {
          host: hostOf(url),
          port: portOf(url),
          path,
          agent: this.agent(`tunnel ${proxy.href}`, () => new TunnelAgent(proxy, this.connectTimeoutMs)),
        },
        proxy: proxyLabel(proxy),
      };
    }
    // Plain http through a proxy: the absolute URL on the request line, to the proxy's own pool.
    const headers: OutgoingHttpHeaders = { host: url.host };
    const auth = proxyAuthorization(proxy);
    if (auth !== undefined) headers["proxy-authorization"] = auth;
    const toProxyOverTls = proxy.protocol === "https:";
    return {
      send: toProxyOverTls ? httpsRequest : httpRequest,
      options: {
        host: hostOf(proxy),
        port: portOf(proxy),
        path: `${url.protocol}//${url.host}${path}`,
        headers,
        agent: this.agent(`proxy ${proxy.href}`, () =>
          toProxyOverTls ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true }),
        ),
      },
      proxy: proxyLabel(proxy),
    };
  }

  /** Close every pooled connection (idle keep-alive sockets would otherwise linger). */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
