/** Ordering and summing up a list of problems, for every parser (and without zod or yaml). */
import type { Problem } from "../errors.js";
import { compareText } from "./text-order.js";

export function problemCountMessage(file: string, problems: readonly Problem[]): string {
  const errors = problems.filter((p) => p.severity === "error").length;
  return `${file} is invalid: ${errors} problem${errors === 1 ? "" : "s"}`;
}

/** By file, then line, then column. */
export function sortProblems(problems: Problem[]): void {
  problems.sort((a, b) => compareText(a.file ?? "", b.file ?? "") || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
