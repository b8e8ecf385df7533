/** The problems of the ValidationError `fn` throws, formatted (anything else thrown propagates). */
import { formatProblem, ValidationError } from "../../src/errors.js";

export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.problems.map(formatProblem);
    throw err;
  }
  throw new Error("expected a ValidationError");
}
