/**
 * The shapes in which a secret value shows up in tool output, as patterns
 * for the redactor (redact.ts).
 *
 * A pattern is a sequence of tokens, one per character of the secret; a
 * token lists every spelling of that character the redactor accepts:
 *
 * - raw, and URL-encoded (`%2F`/`%2f` per UTF-8 byte, `+` for a space);
 * - escaped as JSON, JavaScript, Python or Go print it (`\n`, `\"`, `\\`,
 *   `\u00e9`, `\x1b`, `\'`, `\/`), and JSON-escaped twice (a JSON string
 *   holding JSON, e.g. a run-record event quoting a tool's JSON line);
 * - shell-quoted: `'\''` and `'"'"'` for a single quote (shell-quote.ts,
 *   `set -x`, Python's shlex), `\c` as `printf %q` writes it, and the
 *   `$'…'` escapes (`\n`, `\E`, `\001`) `set -x` and `printf %q` use for
 *   control characters;
 * - a line break (LF or CRLF in the secret) matches LF, CRLF, or their
 *   escapes, followed by any indentation: a multi-line value (PEM key,
 *   kubeconfig) re-indented as a YAML block scalar or heredoc still matches.
 *
 * Spellings may mix inside one match: text that decodes to the secret under
 * any mix of these dialects is masked, which only ever masks more.
 */

export interface Token {
  /** Spellings of this character (non-empty strings). */
  readonly alts: readonly string[];
  /** The same spellings by their first UTF-16 unit, for matching. */
  readonly byFirst: ReadonlyMap<string, readonly string[]>;
  /** After a line break: any run of spaces/tabs (indentation) may follow. */
  readonly indent: boolean;
}

function makeToken(alts: readonly string[], indent: boolean): Token {
  const byFirst = new Map<string, string[]>();
  for (const alt of alts) {
    const first = alt[0] ?? "";
    byFirst.set(first, [...(byFirst.get(first) ?? []), alt]);
  }
  return { alts, byFirst, indent };
}

export interface SecretPattern {
  readonly tokens: readonly Token[];
  /** Short value: match only as a whole word (see MIN_SECRET_LENGTH in redact.ts). */
  readonly wholeWord: boolean;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, "0");
const hex4 = (n: number): string => n.toString(16).padStart(4, "0");

/** `\n`-style escapes shared by JSON, JavaScript, Python, Go and bash's `$'…'`. */
const CONTROL_ESCAPES: Record<string, readonly string[]> = {
  "\n": ["\\n"],
  "\r": ["\\r"],
  "\t": ["\\t"],
  "\b": ["\\b"],
  "\f": ["\\f"],
  "\v": ["\\v"],
  "\x07": ["\\a"],
  "\x1b": ["\\E", "\\e"],
};

function bothCases(s: string): string[] {
  return [s.toLowerCase(), s.toUpperCase()];
}

/** Every spelling of one character (a code point), except line breaks. */
function spellings(ch: string): string[] {
  const out = new Set<string>([ch]);
  const bytes = [...Buffer.from(ch, "utf8")];
  // URL encoding, upper- and lower-case hex; a space may also be `+` (forms).
  for (const s of bothCases(bytes.map((b) => `%${hex2(b)}`).join(""))) out.add(s);
  if (ch === " ") out.add("+");
  // JSON (as JSON.stringify writes it, and with every non-ASCII character as \uXXXX).
  const json = JSON.stringify(ch).slice(1, -1);
  out.add(json);
  const units = [...Array(ch.length).keys()].map((i) => ch.charCodeAt(i));
  for (const s of bothCases(units.map((u) => `\\u${hex4(u)}`).join(""))) out.add(s);
  // JSON escaped twice.
  out.add(JSON.stringify(json).slice(1, -1));
  for (const e of CONTROL_ESCAPES[ch] ?? []) out.add(e);
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x80) {
    for (const s of bothCases(`\\x${hex2(code)}`)) out.add(s);
    if (code < 0x20 || code === 0x7f) out.add(`\\${code.toString(8).padStart(3, "0")}`);
    // printf %q / backslash escaping of any punctuation or space.
    if (code >= 0x20 && code < 0x7f && !/[A-Za-z0-9]/.test(ch)) out.add(`\\${ch}`);
  }
  if (ch === "'") {
    out.add(`'\\''`);
    out.add(`'"'"'`);
  }
  if (ch === "/") out.add("\\/");
  return [...out];
}

const LINE_BREAK: Token = makeToken(
  ["\n", "\r\n", "\\n", "\\r\\n", "\\\\n", "\\\\r\\\\n", ...bothCases("%0a"), ...bothCases("%0d%0a"), "\\012", "\\015\\012"],
  true,
);

const cache = new Map<string, Token>();
function tokenFor(ch: string): Token {
  let found = cache.get(ch);
  if (found === undefined) {
    found = makeToken(spellings(ch), false);
    if (cache.size < 4096) cache.set(ch, found);
  }
  return found;
}

/** The pattern for one secret value (its line breaks, LF or CRLF, are one token each). */
export function secretPattern(value: string, wholeWord: boolean): SecretPattern {
  const tokens: Token[] = [];
  const lines = value.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (i > 0) tokens.push(LINE_BREAK);
    for (const ch of line) tokens.push(tokenFor(ch));
  });
  return { tokens, wholeWord };
}
