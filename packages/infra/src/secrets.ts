/**
 * The set of secret values of one command: sensitive input values, and
 * sensitive outputs once known. Every echoed line, log line, run-record
 * event and error message goes through `redact`.
 */
import { createRedactor, type Redactor } from "@productive-k3s/pkg-format/redact";

export class SecretSet {
  private readonly values = new Set<string>();
  private current: Redactor = (s) => s;

  constructor(initial: Iterable<string> = []) {
    for (const v of initial) this.values.add(v);
    this.rebuild();
  }

  add(value: string | undefined): void {
    if (value === undefined || value === "" || this.values.has(value)) return;
    this.values.add(value);
    this.rebuild();
  }

  get size(): number {
    return this.values.size;
  }

  /** Replace every secret (and its JSON/URL-encoded forms) with `***`. */
  readonly redact: Redactor = (text) => this.current(text);

  private rebuild(): void {
    this.current = createRedactor(this.values);
  }
}
