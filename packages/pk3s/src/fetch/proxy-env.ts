/**
 * Which proxy, if any, a URL goes through: `http_proxy`/`HTTP_PROXY` for
 * http, `https_proxy`/`HTTPS_PROXY` (else the http proxy) for https, the
 * lowercase spelling first (curl's and undici's order), and `no_proxy`/
 * `NO_PROXY` to go around it.
 *
 * NO_PROXY entries are separated by commas or spaces: `*` (every host),
 * `host` (that host and its subdomains, as curl and Go read it), `.host` or
 * `*.host` (subdomains), each optionally `:port`. IP ranges (CIDR) are not
 * interpreted.
 */
import { UsageError } from "@productive-k3s/pkg-format/errors";

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(...values: (string | undefined)[]): string | undefined {
  return values.find((v) => v !== undefined && v.trim() !== "")?.trim();
}

function parseProxyUrl(name: string, raw: string): URL {
  let url: URL;
  try {
    // `host:port` without a scheme is common in the wild; curl reads it as http.
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new UsageError(`${name} is not a valid proxy URL`, {
      hint: "expected http://host:port (credentials as http://user:pass@host:port)",
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`${name} uses ${url.protocol.replace(":", "")}://, only http:// and https:// proxies are supported`);
  }
  return url;
}

function bareHost(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
}

function defaultPort(url: URL): number {
  return url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/** True when NO_PROXY says `url` must not go through a proxy. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const host = bareHost(url.hostname);
  const port = defaultPort(url);
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    // `host:port`, `[v6]:port`; a bare IPv6 address has several colons and no port.
    const m = entry.split(":").length > 2 && !entry.startsWith("[") ? null : /^(.*?)(?::(\d+))?$/.exec(entry);
    const pattern = bareHost(m?.[1] ?? entry);
    if (m?.[2] !== undefined && Number(m[2]) !== port) continue;
    if (pattern === "") continue;
    if (pattern.startsWith("*.") || pattern.startsWith(".")) {
      const suffix = pattern.replace(/^\*/, "");
      if (host.endsWith(suffix) || host === suffix.slice(1)) return true;
    } else if (host === pattern || host.endsWith(`.${pattern}`)) return true;
  }
  return false;
}

/** The proxy to use for `url`, or undefined for a direct connection. */
export function proxyFor(url: URL, env: Env = process.env): URL | undefined {
  const noProxy = nonEmpty(env.no_proxy, env.NO_PROXY);
  if (bypassesProxy(url, noProxy)) return undefined;
  const httpProxy = nonEmpty(env.http_proxy, env.HTTP_PROXY);
  if (url.protocol === "http:") return httpProxy === undefined ? undefined : parseProxyUrl("HTTP_PROXY", httpProxy);
  const httpsProxy = nonEmpty(env.https_proxy, env.HTTPS_PROXY);
  if (httpsProxy !== undefined) return parseProxyUrl("HTTPS_PROXY", httpsProxy);
  return httpProxy === undefined ? undefined : parseProxyUrl("HTTP_PROXY", httpProxy);
}

/** `Proxy-Authorization` for a proxy URL that carries `user:pass@`, else undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === "" && proxy.password === "") return undefined;
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
}
