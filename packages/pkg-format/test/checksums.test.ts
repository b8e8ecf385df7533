import { describe, expect, it } from "vitest";
import { parseChecksums, verifyChecksums } from "../src/archive/checksums.js";
import { IntegrityError } from "../src/errors.js";

const A = "a".repeat(64);
const B = "0123456789abcdef".repeat(4);

function failure(run: () => unknown): { reason: string; message: string; entry: string | undefined } | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    return { reason: err.reason, message: err.message, entry: err.entry };
  }
}

describe("parseChecksums", () => {
  it("reads `<hex>  <path>` and `<hex> *<path>` lines, with or without a final newline, and drops leading ./", () => {
    expect(parseChecksums(`${A}  addon.yaml\n${B} *./scripts/x y.sh\n`)).toEqual(
      new Map([
        ["addon.yaml", A],
        ["scripts/x y.sh", B],
      ]),
    );
    expect(parseChecksums(`${A}  addon.yaml`)).toEqual(new Map([["addon.yaml", A]]));
    expect(parseChecksums("")).toEqual(new Map());
  });

  const malformed: [string, string, number][] = [
    ["an empty line in the middle", `${A}  a\n\n${B}  b\n`, 2],
    ["a lone newline", "\n", 1],
    ["uppercase hex", `${A.toUpperCase()}  a\n`, 1],
    ["a short digest", `${A.slice(1)}  a\n`, 1],
    ["one space only", `${A} a\n`, 1],
    ["no path", `${A}  \n`, 1],
    ["a CRLF line end", `${A}  a\r\n`, 1],
    ["a U+2028 in the path", `${A}  a\u2028b\n`, 1],
    ["an absolute path", `${A}  /etc/passwd\n`, 1],
    ["a '..' path", `${A}  a/../../b\n`, 1],
    ["a backslash", `${A}  a\\b\n`, 1],
    ["a second line that is bad", `${A}  a\nnot a checksum line\n`, 2],
  ];
  for (const [name, text, line] of malformed) {
    it(`rejects ${name} (line ${line})`, () => {
      expect(failure(() => parseChecksums(text))).toEqual({
        reason: "checksums-malformed",
        message: `checksums.sha256 line ${line} is not "<sha256 hex>  <relative path>"`,
        entry: "checksums.sha256",
      });
    });
  }

  it("rejects a path listed twice (also as ./path)", () => {
    expect(failure(() => parseChecksums(`${A}  a\n${B}  ./a\n`))).toEqual({
      reason: "checksums-malformed",
      message: "checksums.sha256 lists a twice",
      entry: "checksums.sha256",
    });
  });
});

describe("verifyChecksums", () => {
  const listed = new Map([
    ["a", A],
    ["b", B],
  ]);

  it("accepts matching files (checksums.sha256 itself is not listed)", () => {
    expect(
      failure(() =>
        verifyChecksums(
          listed,
          new Map([
            ["b", B],
            ["checksums.sha256", A],
            ["a", A],
          ]),
        ),
      ),
    ).toBeUndefined();
  });

  it("names a mismatch, a missing file, and the first unlisted file in path order", () => {
    expect(failure(() => verifyChecksums(listed, new Map([["a", B]])))?.reason).toBe("checksum-mismatch");
    expect(failure(() => verifyChecksums(listed, new Map([["a", A]])))).toMatchObject({ reason: "checksum-missing-file", entry: "b" });
    const actual = new Map([
      ["z", A],
      ["b", B],
      ["m", A],
      ["a", A],
    ]);
    expect(failure(() => verifyChecksums(listed, actual))).toEqual({
      reason: "checksum-unlisted-file",
      message: "m is in the package but not in checksums.sha256",
      entry: "m",
    });
  });
});
