/**
 * Configuration answers: what an add-on's `configure` phase asks
 * (prompt/prompt_yesno/prompt_secret VAR DEFAULT MESSAGE) and writes
 * (write_addon_config_var OUTPUT KEY VALUE).
 *
 * A prompt's key is its variable upper-cased (`registry_host` → REGISTRY_HOST).
 * Answers given before the run, in rising precedence:
 *   - the environment: PK3S_CONFIG_<KEY>=value;
 *   - a values file (-f): a top-level `configure:` map of KEY: value;
 *   - `--set configure.<KEY>=value` (Helm never sees these).
 * The answers configure writes are passed to the later phases as
 * PK3S_<KEY>, and recorded: in clear when not sensitive, as a keyed HMAC
 * (the values key) when sensitive, so that a later run can tell whether a
 * default differs from what was used before without the value being stored.
 * A key is sensitive when it matches SENSITIVE_KEY (PASS, SECRET, TOKEN, ...)
 * or was asked with prompt_secret.
 */
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type Problem, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import { compareText } from "@productive-k3s/pkg-format/text-order";
import { parse } from "yaml";

/** Sensitive answer keys, as an extended regular expression bash's =~ reads the same way. */
export const SENSITIVE_KEY_SOURCE = "(PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE_?KEY|API_?KEY)";
const SENSITIVE_KEY = new RegExp(SENSITIVE_KEY_SOURCE);
const KEY = /^[A-Z_][A-Z0-9_]*$/;
/** What write_addon_config_var accepts (a shell variable name). */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `--set configure.<key>=value`. */
const SET_PREFIX = "configure.";
/** Environment variables under PK3S_CONFIG_ that are not answers. */
const NOT_ANSWERS = new Set(["PK3S_CONFIG_DIR", "PK3S_CONFIG_SENSITIVE_PATTERN"]);

export type Answers = Record<string, string>;

export const isSensitiveKey = (key: string): boolean => SENSITIVE_KEY.test(key);

/** A prompt variable's key: upper-cased, other characters as `_` (what the runtime library does). */
export function configKey(name: string): string | undefined {
  const key = name.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  return KEY.test(key) ? key : undefined;
}

/** `--set` split: Helm's values, and the configure answers (`configure.<key>=value`). */
export function splitSets(sets: readonly string[]): { helm: string[]; configure: string[] } {
  const helm: string[] = [];
  const configure: string[] = [];
  for (const s of sets) (s.startsWith(SET_PREFIX) ? configure : helm).push(s);
  return { helm, configure };
}

function keyOf(raw: string, where: string): string {
  const key = configKey(raw);
  if (key === undefined) {
    throw new UsageError(
      `invalid configure answer name ${quoteForTerminal(raw)} in ${where}: expected a variable name such as REGISTRY_HOST`,
    );
  }
  return key;
}

/** The answers of a values file's top-level `configure:` map (none when it has no such key). */
async function fileAnswers(file: string): Promise<Answers> {
  const text = await readFile(file, "utf8");
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return {}; // not YAML: Helm reports it; only our own key is read here
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc) || !("configure" in doc)) return {};
  const map = (doc as { configure: unknown }).configure;
  const problems: Problem[] = [];
  const out: Answers = {};
  if (map === null || typeof map !== "object" || Array.isArray(map)) {
    problems.push({ file, path: "configure", message: "expected a map of answers (KEY: value)", severity: "error" });
  } else {
    for (const [raw, value] of Object.entries(map)) {
      const key = configKey(raw);
      if (key === undefined) {
        problems.push({ file, path: `configure.${raw}`, message: "expected a variable name such as REGISTRY_HOST", severity: "error" });
      } else if (value === null || typeof value === "object") {
        problems.push({ file, path: `configure.${raw}`, message: "expected a string, number or boolean", severity: "error" });
      } else {
        out[key] = String(value);
      }
    }
  }
  if (problems.length > 0) throw new ValidationError(`values file ${file} has an invalid configure map`, problems, { where: file });
  return out;
}

/**
 * Answers given for this run: the environment, then `base` (a rollback's
 * recorded answers), then values files in order, then `--set configure.*`.
 */
export async function givenAnswers(
  files: readonly string[],
  configureSets: readonly string[],
  env: NodeJS.ProcessEnv,
  base: Readonly<Answers> = {},
): Promise<Answers> {
  const out: Answers = {};
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => compareText(a, b))) {
    if (!name.startsWith("PK3S_CONFIG_") || NOT_ANSWERS.has(name) || value === undefined) continue;
    const key = configKey(name.slice("PK3S_CONFIG_".length));
    if (key !== undefined) out[key] = value;
  }
  Object.assign(out, base);
  for (const f of files) Object.assign(out, await fileAnswers(f));
  for (const s of configureSets) {
    const eq = s.indexOf("=");
    out[keyOf(s.slice(SET_PREFIX.length, eq), "--set")] = s.slice(eq + 1);
  }
  return out;
}

/** PK3S_<KEY> for each answer (Core's own variables are set after these and win). */
export function answerEnv(answers: Readonly<Answers>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(answers)) if (IDENT.test(key)) env[`PK3S_${key}`] = value;
  return env;
}

/** Names a recorded answer is never exported under unprefixed (it would change how the shell or a tool works). */
const UNSAFE_PLAIN =
  /^(PATH|HOME|SHELL|USER|LOGNAME|IFS|ENV|BASH_ENV|BASHOPTS|SHELLOPTS|CDPATH|GLOBIGNORE|PS4|PWD|OLDPWD|TERM|TMPDIR|LANG|KUBECONFIG|LC_\w*|LD_\w*|HELM_\w*|PK3S_\w*|PRODUCTIVE_K3S_\w*)$/;

/**
 * The configure step's own variables: the answers given (PK3S_CONFIG_<KEY>,
 * never asked), the recorded ones (PK3S_RECORDED_<KEY>, the defaults; also
 * as <KEY>, since scripts compute defaults as "${KEY:-default}").
 */
export function configureEnv(given: Readonly<Answers>, recorded: Readonly<Answers>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(recorded)) {
    if (!IDENT.test(key)) continue;
    env[`PK3S_RECORDED_${key}`] = value;
    if (!UNSAFE_PLAIN.test(key)) env[key] = value;
  }
  for (const [key, value] of Object.entries(given)) if (KEY.test(key)) env[`PK3S_CONFIG_${key}`] = value;
  return env;
}

export interface PromptRecord {
  key: string;
  /** given (PK3S_CONFIG_*), recorded, default, answered (typed on the terminal). */
  source: "given" | "recorded" | "default" | "answered";
  sensitive: boolean;
}

export interface ConfigureOutput {
  /** What configure wrote (write_addon_config_var), later writes winning. */
  answers: Answers;
  prompts: PromptRecord[];
}

/** Read the files the configure phase wrote: NUL-separated KEY/VALUE pairs and one TSV line per prompt. */
export async function readConfigureOutput(answersFile: string, promptsFile: string): Promise<ConfigureOutput> {
  const raw = await readFile(answersFile, "utf8").catch(() => "");
  const parts = raw.split("\0");
  const answers: Answers = {};
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const key = parts[i] ?? "";
    if (IDENT.test(key)) answers[key] = parts[i + 1] ?? "";
  }
  const prompts: PromptRecord[] = [];
  for (const line of (await readFile(promptsFile, "utf8").catch(() => "")).split("\n")) {
    const [key, source, sensitive] = line.split("\t");
    if (key === undefined || key === "" || source === undefined) continue;
    if (source !== "given" && source !== "recorded" && source !== "default" && source !== "answered") continue;
    prompts.push({ key, source, sensitive: sensitive === "y" });
  }
  return { answers, prompts };
}

/** Keys to keep out of records and to mask: sensitive by name, or asked as sensitive. */
export function sensitiveKeys(out: ConfigureOutput): Set<string> {
  const keys = new Set(Object.keys(out.answers).filter((k) => isSensitiveKey(k.toUpperCase())));
  for (const p of out.prompts) if (p.sensitive) keys.add(p.key);
  return keys;
}

/** An answer shown to the user: sensitive ones as ***. */
export const shownAnswer = (key: string, value: string, sensitive: ReadonlySet<string>): string => (sensitive.has(key) ? "***" : value);

/** The keyed HMAC a sensitive answer is recorded as. */
export function answerDigest(key: Buffer, name: string, value: string): string {
  return `hmac-sha256:${createHmac("sha256", key).update(`answer:${name}\n`).update(value, "utf8").digest("hex")}`;
}

/**
 * What is recorded of a run's answers (the ones given, then what configure
 * wrote): non-sensitive ones in clear, sensitive ones as keyed HMACs.
 */
export function recordableAnswers(
  out: ConfigureOutput,
  given: Readonly<Answers>,
  valuesKey: Buffer,
): { answers: Answers; sensitiveAnswers: Answers } {
  const sensitive = sensitiveKeys(out);
  const answers: Answers = {};
  const sensitiveAnswers: Answers = {};
  for (const [k, v] of Object.entries({ ...given, ...out.answers })) {
    if (sensitive.has(k) || isSensitiveKey(k)) sensitiveAnswers[k] = answerDigest(valuesKey, k, v);
    else answers[k] = v;
  }
  return { answers, sensitiveAnswers };
}

/** The first `*_ACTION` answer other than `install`: configure declined to install. */
export function declinedAction(answers: Readonly<Answers>): { key: string; value: string } | undefined {
  for (const [key, value] of Object.entries(answers)) if (key.endsWith("_ACTION") && value !== "install") return { key, value };
  return undefined;
}

/**
 * Sensitive answers that fell back to their default without a terminal
 * while the last run had used something else (its recorded HMAC differs):
 * installing would silently reset e.g. a registry password.
 */
export function resetSensitiveAnswers(
  out: ConfigureOutput,
  previous: Readonly<Answers>,
  valuesKey: Buffer,
  interactive: boolean,
): string[] {
  if (interactive) return [];
  const defaulted = new Set(out.prompts.filter((p) => p.source === "default").map((p) => p.key));
  const sensitive = sensitiveKeys(out);
  return Object.entries(out.answers)
    .filter(([k, v]) => sensitive.has(k) && defaulted.has(k) && previous[k] !== undefined && previous[k] !== answerDigest(valuesKey, k, v))
    .map(([k]) => k);
}

/** Given answers that differ from the record (non-sensitive: the value; sensitive: the HMAC). */
export function changedAnswers(
  given: Readonly<Answers>,
  recorded: { answers?: Answers | undefined; sensitiveAnswers?: Answers | undefined },
  valuesKey: Buffer | undefined,
): string[] {
  return Object.entries(given)
    .filter(([k, v]) => {
      const sensitive = recorded.sensitiveAnswers?.[k];
      if (sensitive !== undefined) return valuesKey === undefined || sensitive !== answerDigest(valuesKey, k, v);
      return recorded.answers?.[k] !== v;
    })
    .map(([k]) => k);
}
