// biome-ignore-all lint/suspicious/noTemplateCurlyInString: env files use ${VAR} syntax literally
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMPAT_DIR } from "../../../fixtures/compat-dir.js";
import { formatProblem, ValidationError } from "../src/errors.js";
import { parseEnvFile } from "../src/format/env-file.js";

function envFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? envFiles(p) : n.endsWith(".env") ? [p] : [];
  });
}

function problems(text: string, strict = false): string[] {
  try {
    parseEnvFile(text, "x.env", { strict });
  } catch (err) {
    if (err instanceof ValidationError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error("expected a ValidationError");
}

describe("parseEnvFile", () => {
  const compat = envFiles(join(COMPAT_DIR, "profiles"));
  it("finds the compat env files", () => expect(compat.length).toBeGreaterThanOrEqual(4));
  for (const f of compat) {
    it(`parses ${f.replace(`${COMPAT_DIR}/`, "")}`, () => {
      const parsed = parseEnvFile(readFileSync(f, "utf8"), f);
      expect(Object.keys(parsed.values).length).toBeGreaterThan(3);
      expect(parsed.values.PK3S_INFRA_PROFILE_NAME).toMatch(/^[a-z0-9-]+$/);
    });
  }

  it("keeps a reference to an undefined key verbatim with a warning (compat: $HOME)", () => {
    const parsed = parseEnvFile("KEY=$HOME/.ssh/id\n", "x.env");
    expect(parsed.values.KEY).toBe("$HOME/.ssh/id");
    expect(parsed.warnings.map(formatProblem)).toEqual([
      "warning: x.env:1:5: reference to HOME, which is not defined earlier in this file (kept verbatim)",
    ]);
    expect(problems("\nKEY=${HOME}/x\n", true)).toEqual(["error: x.env:2:5: reference to HOME, which is not defined earlier in this file"]);
  });

  it("handles quotes, escapes, comments, export and references", () => {
    const text = [
      "# comment",
      "",
      "export A=plain value # trailing comment",
      "B='single $A \\n kept'",
      'C="double $A and ${A}\\n\\"q\\" \\$A"',
      "D=${A}-suffix",
      "E=",
      "F=a#not-a-comment",
      "  G = spaced  ",
      "H=back\\ slash\\#x",
      "I=$",
      "A=again",
    ].join("\n");
    const parsed = parseEnvFile(text, "x.env");
    expect(parsed.values).toEqual({
      A: "again",
      B: "single $A \\n kept",
      C: 'double plain value and plain value\n"q" $A',
      D: "plain value-suffix",
      E: "",
      F: "a#not-a-comment",
      G: "spaced",
      H: "back slash#x",
      I: "$",
    });
    expect(parsed.entries[0]).toEqual({ key: "A", value: "plain value", line: 3 });
    expect(parsed.warnings.map(formatProblem)).toEqual(["warning: x.env:12:1: A is assigned again (line 3); the last value wins"]);
  });

  it("never echoes a malformed line (it may be a pasted secret)", () => {
    const err = (() => {
      try {
        parseEnvFile("ghp_0123456789abcdefSECRET\n", "x.env");
      } catch (e) {
        return e as Error & { problems: { message: string }[] };
      }
      throw new Error("expected a ValidationError");
    })();
    expect(JSON.stringify(err.problems) + err.message).not.toContain("SECRET");
  });

  it("never runs anything: command substitution is plain text", () => {
    expect(parseEnvFile("X=$(rm -rf /)`id`\n", "x.env").values.X).toBe("$(rm -rf /)`id`");
  });

  const rejects: [string, string, string[]][] = [
    ["no '='", "JUST_A_WORD\n", ['error: x.env:1:1: expected KEY=VALUE, found a line without "=" (11 characters, not shown)']],
    ["bad key", "1KEY=x\n", ["error: x.env:1:1: expected a variable name ([A-Za-z_][A-Za-z0-9_]*) before '=', found \"1KEY\""]],
    [
      "unterminated double quote",
      'A="open\n',
      ["error: x.env:1:3: unterminated double-quoted value (multi-line values are not supported)"],
    ],
    [
      "unterminated single quote",
      "A='open\n",
      ["error: x.env:1:3: unterminated single-quoted value (multi-line values are not supported)"],
    ],
    ["text after quote", 'A="x" y\n', ['error: x.env:1:6: unexpected text after the closing quote: "y"']],
    [
      "shell operator",
      "A=${B:-x}\n",
      ['error: x.env:1:3: unsupported expansion "${B:-x}": only ${NAME} references to earlier keys are allowed'],
    ],
    ["unterminated brace", "A=${B\n", ["error: x.env:1:3: unterminated ${...} reference"]],
    [
      "all problems at once",
      'A\nB="x\n',
      [
        'error: x.env:1:1: expected KEY=VALUE, found a line without "=" (1 character, not shown)',
        "error: x.env:2:3: unterminated double-quoted value (multi-line values are not supported)",
      ],
    ],
  ];
  for (const [name, text, expected] of rejects) {
    it(`rejects: ${name}`, () => expect(problems(text)).toEqual(expected));
  }
});
