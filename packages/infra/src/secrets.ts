/**
 * The set of secret values of one command: sensitive input values, and
 * sensitive outputs once known. Every echoed line, log line, run-record
 * event and error message goes through `redact`.
 */
import { createRedactor, liveRedactor, type Redactor } from "@productive-k3s/pkg-format/redact";

export class SecretSet {
  private readonly values = new Set<string>();
  private current: Redactor = createRedactor([]);

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

  /** Replace every secret (in every form redact.ts knows) with `***`; `redact.stream()` for tool output. */
  readonly redact: Redactor = liveRedactor(() => this.current);

  private rebuild(): void {
    this.current = createRedactor(this.values);
  }
}
