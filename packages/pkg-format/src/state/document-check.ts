/**
 * A stored document read back through its collection's zod schema: one that
 * does not validate is a ValidationError (exit 4) naming where it is and
 * every field that is wrong, in both backends.
 */
import { ValidationError } from "../errors.js";
import type { StateCollection } from "./backend.js";

/** `runs[0].status` */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

export function checkedDocument<T>(collection: StateCollection<T>, raw: unknown, where: string): T {
  const parsed = collection.schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ValidationError(
    `${collection.label} ${where} is damaged`,
    parsed.error.issues.map((i) => ({ file: where, path: fieldPath(i.path), message: i.message, severity: "error" as const })),
    { where, hint: collection.damagedHint },
  );
}

/** A document that is not JSON at all (local files only: PostgreSQL's json column rejects it). */
export function notJson(collection: StateCollection<unknown>, where: string, err: unknown): ValidationError {
  return new ValidationError(`${collection.label} ${where} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, [], {
    where,
    hint: collection.damagedHint,
  });
}
