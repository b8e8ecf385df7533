/** Proxy selection from HTTP(S)_PROXY / NO_PROXY, as curl reads them. */
import { describe, expect, it } from "vitest";
import { bypassesProxy, proxyAuthorization, proxyFor } from "../src/fetch/proxy-env.js";

const u = (s: string): URL => new URL(s);

describe("proxyFor", () => {
  it("picks the proxy by scheme, lowercase first, https falling back to the http proxy", () => {
    expect(proxyFor(u("http://a.example/x"), { HTTP_PROXY: "http://p:1" })?.host).toBe("p:1");
    expect(proxyFor(u("http://a.example/x"), { HTTPS_PROXY: "http://p:1" })).toBeUndefined();
    expect(proxyFor(u("https://a.example/x"), { HTTP_PROXY: "http://p:1" })?.host).toBe("p:1");
    expect(proxyFor(u("https://a.example/x"), { HTTP_PROXY: "http://p:1", HTTPS_PROXY: "http://q:2" })?.host).toBe("q:2");
    expect(proxyFor(u("https://a.example/x"), { https_proxy: "http://l:3", HTTPS_PROXY: "http://q:2" })?.host).toBe("l:3");
    expect(proxyFor(u("http://a.example/x"), { HTTP_PROXY: "proxy.corp:3128" })?.href).toBe("http://proxy.corp:3128/");
    expect(proxyFor(u("http://a.example/x"), { HTTP_PROXY: "  " })).toBeUndefined();
  });

  it("refuses an unsupported proxy scheme without echoing the value", () => {
    expect(() => proxyFor(u("http://a.example/"), { HTTP_PROXY: "socks5://user:secret@p:1080" })).toThrow(
      "HTTP_PROXY uses socks5://, only http:// and https:// proxies are supported",
    );
    try {
      proxyFor(u("http://a.example/"), { HTTP_PROXY: "socks5://user:secret@p:1080" });
    } catch (err) {
      expect(String(err)).not.toContain("secret");
    }
  });

  it("builds Proxy-Authorization from the proxy URL's user info", () => {
    expect(proxyAuthorization(u("http://u%40x:p%20w@p:1"))).toBe(`Basic ${Buffer.from("u@x:p w").toString("base64")}`);
    expect(proxyAuthorization(u("http://p:1"))).toBeUndefined();
  });
});

describe("NO_PROXY", () => {
  const cases: [string, string, boolean][] = [
    ["http://a.example/", "*", true],
    ["http://a.example/", "a.example", true],
    ["http://www.a.example/", "a.example", true],
    ["http://nota.example/", "a.example", false],
    ["http://www.a.example/", ".a.example", true],
    ["http://a.example/", ".a.example", true],
    ["http://www.a.example/", "*.a.example", true],
    ["http://A.Example./", "a.example", true],
    ["http://a.example:8080/", "a.example:8080", true],
    ["http://a.example/", "a.example:8080", false],
    ["https://a.example/", "a.example:443", true],
    ["http://127.0.0.1:9/", "localhost, 127.0.0.1", true],
    ["http://[::1]:9/", "::1", true],
    ["http://[::1]:9/", "[::1]:9", true],
    ["http://b.example/", "a.example c.example", false],
    ["http://b.example/", "", false],
  ];
  it.each(cases)("%s with NO_PROXY=%j → bypass %s", (url, noProxy, expected) => {
    expect(bypassesProxy(u(url), noProxy)).toBe(expected);
  });

  it("is read from no_proxy or NO_PROXY", () => {
    expect(proxyFor(u("http://a.example/"), { HTTP_PROXY: "http://p:1", no_proxy: "a.example" })).toBeUndefined();
    expect(proxyFor(u("http://a.example/"), { HTTP_PROXY: "http://p:1", NO_PROXY: "a.example" })).toBeUndefined();
  });
});
