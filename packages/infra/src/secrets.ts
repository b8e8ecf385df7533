/**
 * The set of secret values of one command: sensitive input values, and
 * sensitive outputs once known. Every echoed line, log line, run-record
 * event and error message goes through `redact`.
 *
 * A multi-line secret (a PEM key, a kubeconfig) is also known in its LF-only
 * form: the line splitting of tool output drops the `\r` of CRLF lines, so
 * captured text holds the secret with bare `\n`s.
 */
import { isPk3sError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { createRedactor, liveRedactor, type Redactor } from "@productive-k3s/pkg-format/redact";

export class SecretSet {
  private readonly values = new Set<string>();
  private current: Redactor = createRedactor([]);

  constructor(initial: Iterable<string> = []) {
    for (const v of initial) this.addForms(v);
    this.rebuild();
  }

  add(value: string | undefined): void {
    if (value === undefined || value === "" || this.values.has(value)) return;
    this.addForms(value);
    this.rebuild();
  }

  get size(): number {
    return this.values.size;
  }

  /** Replace every secret (in every form redact.ts knows) with `***`; `redact.stream()` for tool output. */
  readonly redact: Redactor = liveRedactor(() => this.current);

  private addForms(value: string): void {
    if (value === "") return;
    this.values.add(value);
    if (value.includes("\r\n")) this.values.add(value.replace(/\r\n/g, "\n"));
  }

  private rebuild(): void {
    this.current = createRedactor(this.values);
  }
}

/**
 * Mask secrets in everything an error carries to the terminal and to the
 * `--json` error document: message, hint, where and each problem's message.
 * Mutates and returns `err`, so its type and exit code are kept.
 */
export function redactError(err: unknown, redact: Redactor): unknown {
  if (!(err instanceof Error)) return err;
  err.message = redact(err.message);
  if (isPk3sError(err)) {
    const mutable = err as { hint: string | undefined; where: string | undefined };
    if (mutable.hint !== undefined) mutable.hint = redact(mutable.hint);
    if (mutable.where !== undefined) mutable.where = redact(mutable.where);
  }
  if (err instanceof ValidationError) {
    for (const p of err.problems) p.message = redact(p.message);
  }
  return err;
}
