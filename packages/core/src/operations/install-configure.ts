/**
 * The configure phase of an install, upgrade or rollback run: what its step
 * is given (the answers given, the recorded ones, the terminal), and what
 * the run does with its output before anything changes: stop when an
 * `*_ACTION` answer declines the install, stop when a sensitive answer
 * would silently fall back to a default other than last time's, warn about
 * answers nobody asked for, and keep the answers for the later phases and
 * the record.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { log, warn } from "@productive-k3s/pkg-format/cli";
import { StepFailedError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import {
  type Answers,
  type ConfigureOutput,
  configureEnv,
  declinedAction,
  readConfigureOutput,
  recordableAnswers,
  resetSensitiveAnswers,
  sensitiveKeys,
  shownAnswer,
} from "../contract/answers.js";
import type { RunDir } from "../contract/run-dir.js";

export interface ConfigureInput {
  run: RunDir;
  /** metadata.name */
  name: string;
  /** Answers given for this run (never asked). */
  given: Answers;
  /** The last run's recorded answers (the defaults) and sensitive HMACs. */
  recorded: { answers?: Answers | undefined; sensitiveAnswers?: Answers | undefined } | undefined;
  interactive: boolean;
}

export interface ConfigureSession {
  /** The configure step's own variables (over the common script environment). */
  env: Record<string, string>;
  /** After the step: check its output; the answers for the later phases and the record. */
  finish(valuesKey: Buffer): Promise<ConfiguredAnswers>;
}

export interface ConfiguredAnswers {
  /** For the later phases (PK3S_<KEY>): given, then configure's. */
  answers: Answers;
  /** For the record. */
  record: { answers: Answers; sensitiveAnswers: Answers };
  /** For the result: every answer, sensitive ones as ***. */
  shown: Answers;
}

const envName = (name: string): string => name.toUpperCase().replace(/[^A-Z0-9_]/g, "_");

export async function configureSession(input: ConfigureInput): Promise<ConfigureSession> {
  const answersFile = join(input.run.work, "configure.answers");
  const promptsFile = join(input.run.work, "configure.prompts");
  for (const f of [answersFile, promptsFile, join(input.run.work, "configure.env")]) await writeFile(f, "", { mode: 0o600 });
  const env: Record<string, string> = {
    ...configureEnv(input.given, input.recorded?.answers ?? {}),
    PK3S_CONFIGURE_ANSWERS: answersFile,
    PK3S_CONFIGURE_PROMPTS: promptsFile,
    PK3S_INTERACTIVE: input.interactive ? "1" : "0",
    // Core installs the add-on because the user asked for it: it is required.
    PK3S_ADDON_REQUIRED: "y",
    [`PK3S_${envName(input.name)}_REQUIRED`]: "y",
  };
  return {
    env,
    finish: async (valuesKey) => {
      const out = await readConfigureOutput(answersFile, promptsFile);
      return finishConfigure(input, out, valuesKey);
    },
  };
}

/** Answers of a run without a configure phase: the given ones. */
export function answersWithoutConfigure(given: Answers, valuesKey: Buffer): ConfiguredAnswers {
  return finishOutput({ answers: {}, prompts: [] }, given, valuesKey);
}

function finishOutput(out: ConfigureOutput, given: Answers, valuesKey: Buffer): ConfiguredAnswers {
  const sensitive = sensitiveKeys(out);
  const answers = { ...given, ...out.answers };
  const record = recordableAnswers(out, given, valuesKey);
  const shown: Answers = {};
  for (const [k, v] of Object.entries(answers)) shown[k] = k in record.sensitiveAnswers ? "***" : shownAnswer(k, v, sensitive);
  return { answers, record, shown };
}

function finishConfigure(input: ConfigureInput, out: ConfigureOutput, valuesKey: Buffer): ConfiguredAnswers {
  const declined = declinedAction(out.answers);
  if (declined !== undefined) {
    throw new StepFailedError(`${input.name}: configure answered ${declined.key}=${terminalLine(declined.value)}; nothing was changed`, {
      hint: `answer the install question with yes (e.g. PK3S_CONFIG_<KEY>=y) to install ${input.name}`,
    });
  }
  const reset = resetSensitiveAnswers(out, input.recorded?.sensitiveAnswers ?? {}, valuesKey, input.interactive);
  if (reset.length > 0) {
    throw new ValidationError(
      `${input.name}: ${reset.join(", ")} ${reset.length === 1 ? "is" : "are"} sensitive, not recorded, and the last run used another value than the default`,
      reset.map((k) => ({ path: k, message: "would be reset to its default without a terminal", severity: "error" as const })),
      { hint: `give ${reset.map((k) => `PK3S_CONFIG_${k}=...`).join(" ")} (environment) or --set configure.${reset[0]}=...` },
    );
  }
  const asked = new Set([...out.prompts.map((p) => p.key), ...Object.keys(out.answers)]);
  const unasked = Object.keys(input.given).filter((k) => !asked.has(k));
  if (unasked.length > 0)
    warn(`configure did not ask for ${unasked.join(", ")}: passed on to the later phases as ${unasked.map((k) => `PK3S_${k}`).join(", ")}`);
  const result = finishOutput(out, input.given, valuesKey);
  const summary = Object.entries(result.shown).map(([k, v]) => `${k}=${terminalLine(v)}`);
  if (summary.length > 0) log(`configure answers: ${summary.join(", ")}`);
  return result;
}
