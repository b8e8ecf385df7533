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

type Attempt = { kind: "match"; end: number } | { kind: "partial" } | { kind: "none" };

/** Match one pattern at `start`; `final` when no more text will follow. */
function matchAt(text: string, start: number, pattern: SecretPattern, final: boolean): Attempt {
  let states = [start];
  let partial = false;
  for (const token of pattern.tokens) {
    const next = new Set<number>();
    for (const s of states) {
      for (const alt of token.alts) {
        if (s + alt.length <= text.length) {
          if (text.startsWith(alt, s)) next.add(s + alt.length);
        } else if (!final && alt.startsWith(text.slice(s))) {
          partial = true;
        }
      }
    }
    if (token.indent) {
      for (const e of [...next]) {
        let p = e;
        while (p < text.length && p - e < MAX_INDENT && (text[p] === " " || text[p] === "\t")) next.add(++p);
      }
    }
    if (next.size === 0) return partial ? { kind: "partial" } : { kind: "none" };
    states = [...next];
  }
  const end = Math.max(...states);
  if (pattern.wholeWord) {
    if (end === text.length && !final) return { kind: "partial" };
    const after = text[end];
    if (after !== undefined && WORD_CHAR.test(after)) return partial ? { kind: "partial" } : { kind: "none" };
  }
  return { kind: "match", end };
}

/** The compiled secret set: patterns indexed by the characters they can start with. */
class Matcher {
  private readonly byFirst = new Map<string, SecretPattern[]>();

  constructor(patterns: readonly SecretPattern[]) {
    for (const p of patterns) {
      const first = p.tokens[0];
      if (first === undefined) continue;
      for (const ch of new Set(first.alts.map((a) => a[0] ?? ""))) {
        const list = this.byFirst.get(ch) ?? [];
        list.push(p);
        this.byFirst.set(ch, list);
      }
    }
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
    let i = 0;
    while (i < text.length) {
      const candidates = this.byFirst.get(text[i] ?? "");
      if (candidates === undefined) {
        i++;
        continue;
      }
      const prev = i === 0 ? before : (text[i - 1] ?? "");
      let best = -1;
      let wait = false;
      for (const p of candidates) {
        if (p.wholeWord && prev !== "" && WORD_CHAR.test(prev)) continue;
        const r = matchAt(text, i, p, final);
        if (r.kind === "partial") wait = true;
        else if (r.kind === "match" && r.end > best) best = r.end;
      }
      // A longer secret may still be arriving: decide when it has.
      if (wait) return { out: out + text.slice(copied, i), hold: i };
      if (best > i) {
        out += text.slice(copied, i) + MASK;
        copied = i = best;
      } else {
        i++;
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
