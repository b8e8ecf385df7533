// biome-ignore-all lint/suspicious/noTemplateCurlyInString: env files use ${VAR} syntax literally
/**
 * profile.env and --env-file parsing, as DATA: never given to a shell.
 *
 * Grammar, one assignment per line:
 *   - blank lines and lines starting with `#` are ignored; `export ` before the key is allowed;
 *   - KEY matches [A-Za-z_][A-Za-z0-9_]*, then `=`, then the value;
 *   - 'single quotes': literal, no escapes, no references;
 *   - "double quotes": escapes \\ \" \$ \` \n \t \r; references expanded;
 *   - unquoted: up to an unescaped ` #` comment, surrounding whitespace trimmed; `\x` escapes x; references expanded;
 *   - references `$VAR` / `${VAR}` resolve to keys defined EARLIER in the same file only
 *     (never the process environment). A reference to anything else is kept verbatim and
 *     reported as a warning (error with `strict`): published profiles use `$HOME/...` in
 *     values that the invoking machine overrides anyway. `${VAR:-x}` and other shell
 *     operators are not supported (error).
 * A key assigned twice keeps the last value, with a warning.
 */
import { type Problem, ValidationError } from "../errors.js";

export interface EnvEntry {
  key: string;
  value: string;
  line: number;
}

export interface ParsedEnvFile {
  values: Record<string, string>;
  entries: EnvEntry[];
  warnings: Problem[];
}

export interface EnvParseOptions {
  /** References to keys not defined earlier in the file are errors. */
  strict?: boolean;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

export function parseEnvFile(text: string, file: string, options: EnvParseOptions = {}): ParsedEnvFile {
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: EnvEntry[] = [];
  const problems: Problem[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const line = index + 1;
    const err = (column: number, message: string, severity: "error" | "warning" = "error") =>
      problems.push({ file, line, column, message, severity });
    const trimmedStart = rawLine.length - rawLine.trimStart().length;
    let rest = rawLine.slice(trimmedStart);
    if (rest === "" || rest.startsWith("#")) return;
    let col = trimmedStart + 1;
    const exp = /^export\s+/.exec(rest);
    if (exp !== null) {
      rest = rest.slice(exp[0].length);
      col += exp[0].length;
    }
    const eq = rest.indexOf("=");
    if (eq < 0) {
      // The line's text is never echoed: a malformed line is often a pasted secret.
      err(col, `expected KEY=VALUE, found a line without "=" (${plural(rest.trimEnd().length, "character")}, not shown)`);
      return;
    }
    const key = rest.slice(0, eq).trimEnd();
    if (!KEY.test(key)) {
      err(col, `expected a variable name ([A-Za-z_][A-Za-z0-9_]*) before '=', found ${JSON.stringify(key)}`);
      return;
    }
    const valueStart = eq + 1 + (rest.slice(eq + 1).length - rest.slice(eq + 1).trimStart().length);
    const parsed = parseValue(rest.slice(valueStart), col + valueStart, values, options.strict === true);
    for (const p of parsed.problems) err(p.column, p.message, p.severity);
    if (parsed.value === undefined) return;
    if (key in values)
      err(col, `${key} is assigned again (line ${entries.find((e) => e.key === key)?.line}); the last value wins`, "warning");
    values[key] = parsed.value;
    entries.push({ key, value: parsed.value, line });
  });
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) {
    throw new ValidationError(`${file} is invalid: ${errors.length} problem${errors.length === 1 ? "" : "s"}`, problems, {
      where: file,
      hint: "env files are data: KEY=VALUE lines, quotes, comments and references to earlier keys only",
    });
  }
  return { values: { ...values }, entries, warnings: problems };
}

interface ValueResult {
  value?: string;
  problems: { column: number; message: string; severity: "error" | "warning" }[];
}

function parseValue(src: string, startColumn: number, known: Record<string, string>, strict: boolean): ValueResult {
  const problems: ValueResult["problems"] = [];
  let out = "";
  let i = 0;
  const at = (k: number) => startColumn + k;

  const reference = (): boolean => {
    // src[i] === "$"
    const dollarAt = i;
    let name: string;
    let end: number;
    if (src[i + 1] === "{") {
      const close = src.indexOf("}", i + 2);
      if (close < 0) {
        problems.push({ column: at(dollarAt), message: "unterminated ${...} reference", severity: "error" });
        return false;
      }
      name = src.slice(i + 2, close);
      end = close + 1;
      if (!KEY.test(name)) {
        problems.push({
          column: at(dollarAt),
          message: `unsupported expansion ${JSON.stringify(src.slice(i, end))}: only \${NAME} references to earlier keys are allowed`,
          severity: "error",
        });
        return false;
      }
    } else if (src[i + 1] !== undefined && NAME_START.test(src[i + 1] as string)) {
      end = i + 2;
      while (end < src.length && NAME_CHAR.test(src[end] as string)) end++;
      name = src.slice(i + 1, end);
    } else {
      out += "$";
      i++;
      return true;
    }
    if (Object.hasOwn(known, name)) out += known[name];
    else {
      problems.push({
        column: at(dollarAt),
        message: `reference to ${name}, which is not defined earlier in this file${strict ? "" : " (kept verbatim)"}`,
        severity: strict ? "error" : "warning",
      });
      out += src.slice(i, end);
    }
    i = end;
    return true;
  };

  const trailing = (from: number): boolean => {
    const tail = src.slice(from);
    if (tail.trim() === "" || /^\s+#/.test(tail) || tail.startsWith("#")) return true;
    problems.push({
      column: at(from),
      message: `unexpected text after the closing quote: ${JSON.stringify(tail.trim())}`,
      severity: "error",
    });
    return false;
  };

  if (src.startsWith("'")) {
    const close = src.indexOf("'", 1);
    if (close < 0) {
      problems.push({
        column: at(0),
        message: "unterminated single-quoted value (multi-line values are not supported)",
        severity: "error",
      });
      return { problems };
    }
    if (!trailing(close + 1)) return { problems };
    return { value: src.slice(1, close), problems };
  }
  if (src.startsWith('"')) {
    i = 1;
    const escapes: Record<string, string> = { "\\": "\\", '"': '"', $: "$", "`": "`", n: "\n", t: "\t", r: "\r" };
    while (i < src.length) {
      const c = src[i] as string;
      if (c === '"') {
        if (!trailing(i + 1)) return { problems };
        return problems.some((p) => p.severity === "error") ? { problems } : { value: out, problems };
      }
      if (c === "\\" && i + 1 < src.length) {
        const n = src[i + 1] as string;
        out += escapes[n] ?? `\\${n}`;
        i += 2;
      } else if (c === "$") {
        if (!reference()) return { problems };
      } else {
        out += c;
        i++;
      }
    }
    problems.push({ column: at(0), message: "unterminated double-quoted value (multi-line values are not supported)", severity: "error" });
    return { problems };
  }
  while (i < src.length) {
    const c = src[i] as string;
    if (c === "#" && (i === 0 || /\s/.test(src[i - 1] as string))) break;
    if (c === "\\" && i + 1 < src.length) {
      out += src[i + 1];
      i += 2;
    } else if (c === "$") {
      if (!reference()) return { problems };
    } else {
      out += c;
      i++;
    }
  }
  return problems.some((p) => p.severity === "error") ? { problems } : { value: out.trimEnd(), problems };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
