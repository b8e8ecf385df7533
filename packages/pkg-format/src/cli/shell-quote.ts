/**
 * An argv shown as one shell-pasteable line (dry-run plans, run logs): words
 * made only of safe characters stay bare, anything else is single-quoted.
 * For display only: nothing here is ever handed to a shell.
 */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
