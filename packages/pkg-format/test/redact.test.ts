import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { formatArgv, shellQuote } from "../src/cli/shell-quote.js";
import { createRedactor, MASK, type Redactor } from "../src/host/redact.js";

const PEM = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "QyNTUxOQAAACBq7JzvYVw3mX0hJ4cQ2mWq8hX0pWQ1Xq1Y2m5bYwAAAJgAAAAAAAAAAAAA",
  "-----END OPENSSH PRIVATE KEY-----",
].join("\n");

/** Feed `text` to a stream redactor in the given pieces. */
function streamed(redact: Redactor, pieces: string[]): string {
  const s = redact.stream();
  return pieces.map((p) => s.push(p)).join("") + s.end();
}

describe("createRedactor: every representation", () => {
  const secret = `pa ss'w"o\\rd/ä+€`;
  const r = createRedactor([secret]);
  it.each([
    ["raw", secret],
    ["JSON-escaped", JSON.stringify(secret).slice(1, -1)],
    [
      "JSON-escaped, ASCII only",
      JSON.stringify(secret)
        .slice(1, -1)
        .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
    ],
    ["JSON-escaped twice", JSON.stringify(JSON.stringify(secret).slice(1, -1)).slice(1, -1)],
    ["URL-encoded", encodeURIComponent(secret)],
    ["URL-encoded, lower-case hex", encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ["form-encoded", new URLSearchParams({ k: secret }).toString().slice(2)],
    ["shell-quote.ts", shellQuote(secret)],
  ])("%s", (_what, shown) => {
    expect(r(`before ${shown} after`)).toBe(`before ${shown.startsWith("'") ? `'${MASK}'` : MASK} after`);
  });

  it("as real bash prints it with set -x and printf %q", () => {
    for (const value of ["it's a\tsecret\r\nwith\x01control\x1b[0m", "it's-secret value", "new\nline secret"]) {
      const r = spawnSync("bash", ["-c", `set -x; : "$S"; printf '%q\\n' "$S"`], { env: { ...process.env, S: value }, encoding: "utf8" });
      const masked = createRedactor([value])(`${r.stderr}${r.stdout}`);
      expect(masked).toMatch(/^\+ : (\$?'\*\*\*'|\*\*\*)\n\+ printf '%q\\n' (\$?'\*\*\*'|\*\*\*)\n(\$?'\*\*\*'|\*\*\*)\n$/);
    }
  });

  it("in a formatted argv and a JSON document", () => {
    expect(r(formatArgv(["tool", `--password=${secret}`]))).toBe(`tool '--password=${MASK}'`);
    expect(r(JSON.stringify({ a: { b: secret } }))).toBe(`{"a":{"b":"${MASK}"}}`);
  });
});

describe("multi-line secrets", () => {
  const r = createRedactor([PEM]);
  it("raw, with CRLF line ends, JSON-escaped, and re-indented as a YAML block", () => {
    expect(r(`key:\n${PEM}\nend`)).toBe(`key:\n${MASK}\nend`);
    expect(r(`key:\r\n${PEM.replaceAll("\n", "\r\n")}\r\nend`)).toBe(`key:\r\n${MASK}\r\nend`);
    expect(r(JSON.stringify({ key: PEM }))).toBe(`{"key":"${MASK}"}`);
    const yaml = `data:\n  key: |\n${PEM.split("\n")
      .map((l) => `    ${l}`)
      .join("\n")}\n`;
    expect(r(yaml)).toBe(`data:\n  key: |\n    ${MASK}\n`);
  });
  it("each line of it on its own (a tool printing one line of the key)", () => {
    const line = PEM.split("\n")[1] ?? "";
    expect(r(`error near ${line}!`)).toBe(`error near ${MASK}!`);
  });
  it("a secret whose value holds CRLF matches the same text printed with LF", () => {
    const crlf = createRedactor(["first-line-secret\r\nsecond-line-secret"]);
    expect(crlf("x first-line-secret\nsecond-line-secret y")).toBe(`x ${MASK} y`);
  });
});

describe("stream()", () => {
  it("masks a secret split at every possible chunk boundary, in every form", () => {
    const secrets = [PEM, "Zq9-very-secret-Value/with+chars"];
    const r = createRedactor(secrets);
    const text = `a ${PEM} b ${JSON.stringify(PEM)} c ${encodeURIComponent(secrets[1] ?? "")} d\n`;
    const whole = r(text);
    expect(whole).toBe(`a ${MASK} b "${MASK}" c ${MASK} d\n`);
    for (let i = 0; i <= text.length; i++) {
      expect(streamed(r, [text.slice(0, i), text.slice(i)])).toBe(whole);
    }
    // One character at a time.
    expect(streamed(r, [...text])).toBe(whole);
  });

  it("holds back only what could start a secret: other output passes at once", () => {
    const s = createRedactor(["secret-value-1234"]).stream();
    expect(s.push("progress: 10%\n")).toBe("progress: 10%\n");
    expect(s.push("token se")).toBe("token ");
    expect(s.push("cret-value-1234 ok\n")).toBe(`${MASK} ok\n`);
    expect(s.push("almost secret-val")).toBe("almost ");
    expect(s.end()).toBe("secret-val");
  });

  it("prefers the longer of two secrets sharing a prefix, across chunks", () => {
    const r = createRedactor(["abcdefgh-short", "abcdefgh-short-and-longer"]);
    expect(streamed(r, ["x abcdefgh-short", "-and-longer y"])).toBe(`x ${MASK} y`);
  });
});

describe("short secrets (< 8 characters) are masked only as whole words", () => {
  const r = createRedactor(["ab", "7"]);
  it("masks them standing alone, quoted, or between separators", () => {
    expect(r('password=ab "ab" user:ab@host ab')).toBe(`password=${MASK} "${MASK}" user:${MASK}@host ${MASK}`);
    expect(r("retries: 7")).toBe(`retries: ${MASK}`);
  });
  it("leaves them alone inside other words and numbers", () => {
    expect(r("a table of abc, 17 items in 2027")).toBe("a table of abc, 17 items in 2027");
  });
  it("decides at a chunk end only when the next character arrives", () => {
    expect(streamed(r, ["pw=ab", "c"])).toBe("pw=abc");
    expect(streamed(r, ["pw=ab", " ok"])).toBe(`pw=${MASK} ok`);
    expect(streamed(r, ["pw=ab"])).toBe(`pw=${MASK}`);
  });
  it("long secrets are masked anywhere, even inside a word", () => {
    expect(createRedactor(["s3cr3t-long"])("Xs3cr3t-longX")).toBe(`X${MASK}X`);
  });
});
