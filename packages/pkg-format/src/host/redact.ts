/**
 * Masking of secret values in anything we print, log or store.
 *
 * Every secret is masked as `***` in each shape a tool may echo it in
 * (secret-forms.ts: raw, URL-encoded, JSON-escaped, shell-quoted, with its
 * line breaks as LF or CRLF and re-indented), and, when it spans several
 * lines, each of its lines is masked on its own as well (as GitHub Actions
 * does), so a tool printing one line of a PEM key does not leak that line.
 *
 * Streams: `redactor.stream()` masks text that arrives in arbitrary chunks
 * (a secret split across two `data` events, or across lines). It holds back
 * only the tail that could still be the start of a secret, and flushes it on
 * `end()`; text that cannot start one passes through at once, so a tool's
 * progress lines are not delayed.
 *
 * Short values: a secret shorter than MIN_SECRET_LENGTH (8) characters is
 * masked only where it stands as a whole word (not touching a letter or
 * digit). Masking a 1-2 character value everywhere would shred every log
 * line ("ab" inside "table"), and refusing short sensitive values is not an
 * option for values a tool produces (a sensitive output `0`). Whole-word
 * masking still hides `password=ab`, `"ab"`, `user:ab@host`. The same rule
 * picks the lines of a multi-line secret that are masked on their own: lines
 * shorter than MIN_SECRET_LENGTH (`users:`, `EOF`) are structure, not
 * secret, and are masked only as part of the whole value. Runtimes may warn
 * about short sensitive inputs with `isShortSecret`.
 */
import { type SecretPattern, secretPattern } from "./secret-forms.js";

export const MASK = "***";

/** Secrets shorter than this are masked only as whole words. */
export const MIN_SECRET_LENGTH = 8;

/** Masks text that arrives in chunks; `end()` flushes what was held back. */
export interface RedactStream {
  push(chunk: string): string;
  end(): string;
}

export interface Redactor {
  (text: string): string;
  /** A stream masker that sees secrets across chunk and line boundaries. */
  stream(): RedactStream;
}

export function isShortSecret(value: string): boolean {
  return [...value].length < MIN_SECRET_LENGTH;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;
const MAX_INDENT = 64;

/** matchAt's answer: the end of a match (>= 0), NO_MATCH, or PARTIAL (the text ended inside a possible match). */
const NO_MATCH = -1;
const PARTIAL = -2;

/** Match one pattern at `start`; `final` when no more text will follow. */
function matchAt(text: string, start: number, pattern: SecretPattern, final: boolean): number {
  let states: number[] = [start];
  let partial = false;
  for (const token of pattern.tokens) {
    const next: number[] = [];
    for (const s of states) {
      if (s >= text.length) {
        // The text ends here: any spelling could follow.
        if (!final) partial = true;
        continue;
      }
      for (const alt of token.byFirst.get(text[s] ?? "") ?? []) {
        const end = s + alt.length;
        if (end <= text.length) {
          if (text.startsWith(alt, s) && !next.includes(end)) next.push(end);
        } else if (!final && alt.startsWith(text.slice(s))) {
          partial = true;
        }
      }
    }
    if (token.indent) {
      for (const e of [...next]) {
        let p = e;
        while (p < text.length && p - e < MAX_INDENT && (text[p] === " " || text[p] === "\t")) {
          p++;
          if (!next.includes(p)) next.push(p);
        }
      }
    }
    if (next.length === 0) return partial ? PARTIAL : NO_MATCH;
    states = next;
  }
  let end = start;
  for (const s of states) if (s > end) end = s;
  if (pattern.wholeWord) {
    if (end === text.length && !final) return PARTIAL;
    const after = text[end];
    if (after !== undefined && WORD_CHAR.test(after)) return partial ? PARTIAL : NO_MATCH;
  }
  return end;
}

function escapeForClass(ch: string): string {
  return /[\\\]^[-]/.test(ch) ? `\\${ch}` : ch;
}

/** The compiled secret set: patterns indexed by the characters they can start with. */
class Matcher {
  private readonly byFirst = new Map<string, SecretPattern[]>();
  /** Finds the next position where some pattern may start (native scan instead of a per-character loop). */
  private readonly starts: RegExp;

  constructor(patterns: readonly SecretPattern[]) {
    for (const p of patterns) {
      const first = p.tokens[0];
      if (first === undefined) continue;
      for (const ch of first.byFirst.keys()) {
        const list = this.byFirst.get(ch) ?? [];
        list.push(p);
        this.byFirst.set(ch, list);
      }
    }
    const chars = [...this.byFirst.keys()].map(escapeForClass).join("");
    this.starts = new RegExp(chars === "" ? "(?!)" : `[${chars}]`, "g");
  }

  get empty(): boolean {
    return this.byFirst.size === 0;
  }

  /**
   * Mask `text` (preceded by the character `before`, for whole-word checks).
   * Returns the masked part and the index from which the rest must wait for
   * more text (text.length when nothing waits).
   */
  scan(text: string, before: string, final: boolean): { out: string; hold: number } {
    let out = "";
    let copied = 0;
    this.starts.lastIndex = 0;
    for (let hit = this.starts.exec(text); hit !== null; hit = this.starts.exec(text)) {
      const i = hit.index;
      const candidates = this.byFirst.get(text[i] ?? "") ?? [];
      const prev = i === 0 ? before : (text[i - 1] ?? "");
      let best = -1;
      let wait = false;
      for (const p of candidates) {
        if (p.wholeWord && prev !== "" && WORD_CHAR.test(prev)) continue;
        const r = matchAt(text, i, p, final);
        if (r === PARTIAL) wait = true;
        else if (r > best) best = r;
      }
      // A longer secret may still be arriving: decide when it has.
      if (wait) return { out: out + text.slice(copied, i), hold: i };
      if (best > i) {
        out += text.slice(copied, i) + MASK;
        copied = best;
        this.starts.lastIndex = best;
      }
    }
    return { out: out + text.slice(copied), hold: text.length };
  }
}

function patternsFor(secrets: Iterable<string | undefined>): SecretPattern[] {
  const values = new Set<string>();
  for (const secret of secrets) {
    if (secret === undefined || secret === "") continue;
    values.add(secret);
    if (/[\r\n]/.test(secret)) {
      for (const line of secret.split(/\r?\n|\r/)) {
        const trimmed = line.trim();
        if (!isShortSecret(trimmed)) values.add(trimmed);
      }
    }
  }
  // Longest first: at one position the longer secret wins.
  return [...values].sort((a, b) => b.length - a.length).map((v) => secretPattern(v, isShortSecret(v)));
}

function streamOf(matcher: Matcher): RedactStream {
  let pending = "";
  let before = "";
  return {
    push(chunk) {
      const text = pending + chunk;
      const { out, hold } = matcher.scan(text, before, false);
      if (hold > 0) before = text[hold - 1] ?? "";
      pending = text.slice(hold);
      return out;
    },
    end() {
      const { out } = matcher.scan(pending, before, true);
      pending = "";
      before = "";
      return out;
    },
  };
}

const identity: Redactor = Object.assign((text: string) => text, {
  stream: (): RedactStream => ({ push: (chunk: string) => chunk, end: () => "" }),
});

export function createRedactor(secrets: Iterable<string | undefined>): Redactor {
  const matcher = new Matcher(patternsFor(secrets));
  if (matcher.empty) return identity;
  return Object.assign((text: string) => matcher.scan(text, "", true).out, { stream: () => streamOf(matcher) });
}

/** A redactor that always uses `current()` (for a secret set that grows during a command). */
export function liveRedactor(current: () => Redactor): Redactor {
  return Object.assign((text: string) => current()(text), { stream: () => current().stream() });
}

/** Combine redactors (each applied in turn). */
export function chainRedactors(...redactors: Redactor[]): Redactor {
  return Object.assign((text: string) => redactors.reduce((acc, r) => r(acc), text), {
    stream: (): RedactStream => {
      const streams = redactors.map((r) => r.stream());
      return {
        push: (chunk: string) => streams.reduce((acc, s) => s.push(acc), chunk),
        end: () => streams.reduce((acc, s) => s.push(acc) + s.end(), ""),
      };
    },
  });
}
