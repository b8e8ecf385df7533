/** Strict standard base64 for the fixed-size binary lines of minisign files (Node's decoder skips junk silently). */
const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;

/** The bytes of `line` when it is canonical base64 of exactly `length` bytes, else undefined. */
export function decodeBase64Field(line: string, length: number): Buffer | undefined {
  if (!BASE64_LINE.test(line)) return undefined;
  const bytes = Buffer.from(line, "base64");
  return bytes.length === length && bytes.toString("base64") === line ? bytes : undefined;
}

/** The lines of a small text file: LF or CRLF line ends, trailing empty lines dropped. */
export function textLines(text: string): string[] {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}
