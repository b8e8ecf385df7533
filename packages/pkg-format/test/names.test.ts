import { describe, expect, it } from "vitest";
import { quoteForTerminal, terminalBlock, terminalLine } from "../src/cli/terminal-text.js";
import { ExitCode, UsageError } from "../src/errors.js";
import { assertValidName, isValidName } from "../src/format/names.js";

describe("names that reach paths", () => {
  it.each([
    ["package", "cert-manager", true],
    ["package", "a".repeat(53), true],
    ["package", "a".repeat(54), false],
    ["package", "../../x", false],
    ["package", "Longhorn", false],
    ["package", "x/y", false],
    ["package", ".", false],
    ["package", "", false],
    ["instance", "lab.eu-1_a", true],
    ["instance", "Lab", false],
    ["instance", "a..b", false],
    ["instance", "..", false],
    ["instance", "-lab", false],
    ["instance", "a".repeat(64), false],
    ["catalog", "internal", true],
    ["catalog", "my_catalog", false],
    ["namespace", "longhorn-system", true],
    ["namespace", "a".repeat(63), true],
    ["namespace", "a".repeat(64), false],
    ["namespace", "../kube-system", false],
  ] as const)("%s %j valid: %s", (kind, name, ok) => {
    expect(isValidName(kind, name)).toBe(ok);
  });

  it("throws a usage error (exit 2) that neither echoes controls nor hides the name", () => {
    let caught: unknown;
    try {
      assertValidName("package", "../\u001b]52;c;aGk=\u0007x", "add-on name");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const err = caught as UsageError;
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).toBe('invalid add-on name "../\\u001b]52;c;aGk=\\u0007x"');
    expect([...err.message].every((c) => c.charCodeAt(0) >= 0x20)).toBe(true);
    expect(err.hint).toContain("DNS-1123");
  });
});

describe("terminal-safe text", () => {
  it("escapes escape sequences, C1 controls, bidi overrides and line separators in one-line fields", () => {
    expect(terminalLine("ok\u001b[2J\u001b]0;title\u0007\u009b31m\u202eevil\u2028x\ty\nz")).toBe(
      "ok\\u{1b}[2J\\u{1b}]0;title\\u{7}\\u{9b}31m\\u{202e}evil\\u{2028}x\\ty\\nz",
    );
  });
  it("keeps newlines and tabs in blocks, escapes the rest", () => {
    expect(terminalBlock("a\n\tb\r\u001b[1A")).toBe("a\n\tb\\r\\u{1b}[1A");
  });
  it("leaves ordinary Unicode alone", () => {
    expect(terminalLine("Zürich — 東京 ✓")).toBe("Zürich — 東京 ✓");
  });
  it("quotes and shortens values for messages", () => {
    expect(quoteForTerminal("a\u0000b\u009b")).toBe('"a\\u0000b\\u{9b}"');
    expect(quoteForTerminal("x".repeat(100))).toBe(`"${"x".repeat(80)}…"`);
  });
});
