/**
 * A line parser for the simple YAML that catalog indexes are made of: block
 * mappings and sequences, plain, single- and double-quoted one-line scalars,
 * one-line flow sequences of plain scalars, empty flow mappings (`{}`), comments. It builds plain values
 * directly (no document tree, no token objects) and resolves plain scalars the
 * way the `yaml` library's YAML 1.2 core schema does.
 *
 * It never guesses: anything outside that subset (anchors, aliases, tags,
 * block scalars, other flow mappings, multi-line scalars, duplicate keys, tabs,
 * numbers other than plain non-negative integers, odd indentation...) makes
 * it return UNSUPPORTED, and the caller hands that text to the `yaml` library,
 * which also reports every syntax error. So the two can only differ in speed.
 *
 * Measured on a 100,000-entry index (29 MB): this parser reads it in a few
 * hundred ms; the `yaml` library's Lexer alone takes 1.7 s, its CST Parser
 * 9.2 s and 815 MiB, `parseDocument` ~25 s and 1.1 GiB.
 */

/** A mapping as the parser (or JSON) builds it: an object that is not an array. */
export const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** What the parser returns for text outside its subset. */
export const UNSUPPORTED: unique symbol = Symbol("unsupported YAML");

class Unsupported extends Error {}
const unsupported = (): never => {
  throw new Unsupported();
};

interface Line {
  indent: number;
  /** The line after its indentation. */
  text: string;
}

const KEY = /^([A-Za-z0-9_][A-Za-z0-9_./-]*):(?: +|$)/;
/** YAML's limit on an implicit key (the `yaml` library: KEY_OVER_1024_CHARS). */
export const MAX_IMPLICIT_KEY = 1024;
/** Plain scalars the core schema turns into something other than a string (or that we leave to `yaml`). */
const CORE_NON_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|0o[0-7]+|0x[0-9a-fA-F]+)$/;
const SAFE_INT = /^(?:0|[1-9][0-9]{0,14})$/;
/** First characters a plain scalar may not start with (YAML indicators), or that we leave to `yaml`. */
const PLAIN_START_INDICATOR = /^(?:[&*!|>%@`{}[\],"'#]|[-?:](?: |$))/;
/** JSON's escapes, the only ones a double-quoted scalar may use here (YAML's others go to `yaml`). */
const JSON_ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/** Printable ASCII, no leading or trailing space: the only plain scalars the writer (yaml-write.ts) emits. */
const PRINTABLE_ASCII = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * Whether `text`, written plain after `key: ` or `- `, reads back as this very string, here and in the `yaml`
 * library's core schema (no indicator at the start, no `: ` or ` #` inside, nothing the schema resolves to a
 * null, boolean or number). Deliberately narrower than YAML: only printable ASCII.
 */
export function plainReadsBack(text: string): boolean {
  return (
    PRINTABLE_ASCII.test(text) &&
    !PLAIN_START_INDICATOR.test(text) &&
    !text.includes(": ") &&
    !text.includes(" #") &&
    !text.endsWith(":") &&
    !CORE_NON_STRING.test(text)
  );
}

/** Whether `key`, written plain before `: `, is read here (not left to the `yaml` library) as this string. */
export function plainKeyReadsBack(key: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(key) && key.length <= MAX_IMPLICIT_KEY && !CORE_NON_STRING.test(key) && key !== "__proto__";
}

function resolvePlain(text: string): unknown {
  if (!CORE_NON_STRING.test(text)) return text;
  switch (text) {
    case "~":
    case "null":
    case "Null":
    case "NULL":
      return null;
    case "true":
    case "True":
    case "TRUE":
      return true;
    case "false":
    case "False":
    case "FALSE":
      return false;
  }
  if (SAFE_INT.test(text)) return Number(text);
  return unsupported(); // floats, signed or zero-padded integers, hex, octal, .inf, .nan
}

/** The end of a value (after a closing quote or bracket): only spaces, or spaces and a comment. */
function assertOnlyComment(rest: string): void {
  if (rest !== "" && !/^ +(?:#.*)?$/.test(rest)) unsupported();
}

function doubleQuoted(text: string): string {
  let i = 1;
  for (;;) {
    const next = text.slice(i).search(/["\\]/);
    if (next < 0) return unsupported(); // continues on the next line
    i += next;
    if (text[i] === '"') break;
    JSON_ESCAPE.lastIndex = i;
    if (!JSON_ESCAPE.test(text)) unsupported();
    i = JSON_ESCAPE.lastIndex;
  }
  assertOnlyComment(text.slice(i + 1));
  try {
    return JSON.parse(text.slice(0, i + 1)) as string;
  } catch {
    return unsupported(); // a raw control character
  }
}

function singleQuoted(text: string): string {
  let i = 1;
  for (;;) {
    const q = text.indexOf("'", i);
    if (q < 0) return unsupported();
    if (text[q + 1] === "'") {
      i = q + 2;
      continue;
    }
    assertOnlyComment(text.slice(q + 1));
    return text.slice(1, q).replaceAll("''", "'");
  }
}

function plain(text: string): unknown {
  const comment = text.indexOf(" #");
  const value = (comment < 0 ? text : text.slice(0, comment)).trimEnd();
  if (value === "" || PLAIN_START_INDICATOR.test(value) || value.includes(": ") || value.endsWith(":")) unsupported();
  return resolvePlain(value);
}

/** `[a, b]` of plain scalars on one line. */
function flowSequence(text: string): unknown[] {
  const close = text.indexOf("]");
  if (close < 0) return unsupported();
  assertOnlyComment(text.slice(close + 1));
  const inner = text.slice(1, close);
  if (/[[\]{}"'#:]/.test(inner)) unsupported();
  if (inner.trim() === "") return [];
  return inner.split(",").map((item) => {
    const value = item.trim();
    if (value === "" || PLAIN_START_INDICATOR.test(value)) unsupported();
    return resolvePlain(value);
  });
}

/** `{}` (what writers put for an empty mapping, e.g. a kubeconfig's `preferences: {}`); any other flow mapping is the library's. */
function emptyFlowMapping(text: string): Record<string, unknown> {
  const close = text.indexOf("}");
  if (close < 0 || text.slice(1, close).trim() !== "") return unsupported();
  assertOnlyComment(text.slice(close + 1));
  return {};
}

/** A scalar (or flow sequence, or empty flow mapping) written after `key: ` or `- `. */
function scalar(text: string): unknown {
  switch (text[0]) {
    case '"':
      return doubleQuoted(text);
    case "'":
      return singleQuoted(text);
    case "[":
      return flowSequence(text);
    case "{":
      return emptyFlowMapping(text);
    default:
      return plain(text);
  }
}

const isItem = (text: string): boolean => text === "-" || text.startsWith("- ");
const isEmptyValue = (text: string): boolean => text === "" || text.startsWith("#");

class BlockParser {
  private pos = 0;

  constructor(private readonly lines: Line[]) {}

  parseDocument(): unknown {
    if (this.lines.length === 0) return null;
    const value = this.node(0);
    if (this.pos !== this.lines.length) unsupported(); // a line that fits no level: bad indentation
    return value;
  }

  private node(minIndent: number): unknown {
    const line = this.lines[this.pos]!;
    if (line.indent < minIndent) unsupported();
    return isItem(line.text) ? this.sequence(line.indent) : this.mapping(line.indent);
  }

  /** The value of a key (or item) with nothing after it: a deeper block, a sequence at the key's own indent, or null. */
  private nested(parentIndent: number, sequenceAtSameIndent: boolean): unknown {
    const next = this.lines[this.pos];
    if (next === undefined) return null;
    if (next.indent > parentIndent) return this.node(parentIndent + 1);
    if (sequenceAtSameIndent && next.indent === parentIndent && isItem(next.text)) return this.sequence(parentIndent);
    return null;
  }

  /** A scalar on one line may not continue on deeper lines (a multi-line plain scalar). */
  private assertNoContinuation(indent: number): void {
    const next = this.lines[this.pos];
    if (next !== undefined && next.indent > indent) unsupported();
  }

  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (let line = this.lines[this.pos]; line !== undefined && line.indent === indent && isItem(line.text); line = this.lines[this.pos]) {
      const after = line.text.slice(1);
      const rest = after.trimStart();
      if (isEmptyValue(rest)) {
        this.pos++;
        out.push(this.nested(indent, false));
      } else if (isItem(rest)) {
        unsupported(); // `- - x`
      } else if (KEY.test(rest)) {
        // `- key: value`: a mapping whose keys sit at the column of `key`.
        const column = indent + 1 + (after.length - rest.length);
        this.lines[this.pos] = { indent: column, text: rest };
        out.push(this.mapping(column));
      } else {
        this.pos++;
        this.assertNoContinuation(indent);
        out.push(scalar(rest));
      }
    }
    return out;
  }

  private mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let line = this.lines[this.pos]; line !== undefined && line.indent === indent && !isItem(line.text); line = this.lines[this.pos]) {
      const m = KEY.exec(line.text);
      if (m === null) return unsupported();
      const key = m[1]!;
      // Keys the core schema reads as non-strings, `__proto__`, duplicates and implicit keys over 1024 characters
      // (errors in `yaml`): not ours to decide.
      if (key.length > MAX_IMPLICIT_KEY || CORE_NON_STRING.test(key) || key === "__proto__" || Object.hasOwn(out, key)) unsupported();
      const value = line.text.slice(m[0].length);
      this.pos++;
      if (isEmptyValue(value)) out[key] = this.nested(indent, true);
      else {
        this.assertNoContinuation(indent);
        out[key] = scalar(value);
      }
    }
    return out;
  }
}

/**
 * Split one line into indentation and text; undefined for a blank or comment-only line. A tab anywhere,
 * a document marker or a directive is outside the subset.
 */
export function lineOf(raw: string): Line | undefined {
  if (raw.includes("\t") || raw.includes("\r")) unsupported();
  let indent = 0;
  while (raw.charCodeAt(indent) === 32) indent++;
  if (indent === raw.length || raw.charCodeAt(indent) === 35 /* # */) return undefined;
  if (indent === 0 && (raw.startsWith("---") || raw.startsWith("...") || raw.startsWith("%"))) unsupported();
  return { indent, text: indent === 0 ? raw : raw.slice(indent) };
}

/** The value of a block of lines (a mapping or a sequence), or UNSUPPORTED. */
export function parseSimpleYaml(rawLines: readonly string[]): unknown {
  try {
    const lines: Line[] = [];
    for (const raw of rawLines) {
      const line = lineOf(raw);
      if (line !== undefined) lines.push(line);
    }
    return new BlockParser(lines).parseDocument();
  } catch (err) {
    if (err instanceof Unsupported) return UNSUPPORTED;
    throw err;
  }
}

/** Whether `err` is the parser's "outside the subset" signal (for callers that use `lineOf` themselves). */
export function isUnsupported(err: unknown): boolean {
  return err instanceof Unsupported;
}
