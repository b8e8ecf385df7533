/**
 * Text from outside (catalog fields, package manifests, names typed by a
 * user, tool output) made safe to print on a terminal.
 *
 * A catalog can otherwise clear the screen, move the cursor to overwrite a
 * "verified" line, set the window title or write the clipboard (OSC 52). We
 * never pass a control character through: C0 controls (except the line
 * breaks and tabs a block of text may keep), DEL, C1 controls (U+0080–U+009F,
 * which terminals also read as escape introducers), Unicode line/paragraph
 * separators and bidirectional overrides (which reorder what is displayed)
 * are shown as visible `\u{…}` escapes, so the user still sees that
 * something odd was there.
 */

function isUnsafe(code: number, keepBreaks: boolean): boolean {
  if (code < 0x20) return !(keepBreaks && (code === 0x0a || code === 0x09));
  if (code >= 0x7f && code <= 0x9f) return true; // DEL and C1
  if (code === 0x2028 || code === 0x2029) return true; // line / paragraph separators
  return (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069); // bidi embeddings, overrides, isolates
}

function escapeChar(code: number): string {
  if (code === 0x0a) return "\\n";
  if (code === 0x0d) return "\\r";
  if (code === 0x09) return "\\t";
  return `\\u{${code.toString(16)}}`;
}

function escapeUnsafe(text: string, keepBreaks: boolean): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isUnsafe(code, keepBreaks)) continue;
    out += text.slice(from, i) + escapeChar(code);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** One-line field (name, description, category, URL): every control character escaped, tabs and newlines included. */
export function terminalLine(text: string): string {
  return escapeUnsafe(text, false);
}

/** Multi-line text (a README, tool output): newlines and tabs kept, every other control escaped. */
export function terminalBlock(text: string): string {
  return escapeUnsafe(text, true);
}

/** A value quoted for an error message: JSON-quoted (so spaces and quotes show), then made terminal-safe. */
export function quoteForTerminal(value: string, maxLength = 80): string {
  const shown = value.length > maxLength ? `${value.slice(0, maxLength)}…` : value;
  return terminalLine(JSON.stringify(shown));
}
