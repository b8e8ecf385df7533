/**
 * helm's lint and template errors as located problems: the package file they are about (the chart's
 * template, Chart.yaml, values.yaml, or a package values file), with line and column when helm gives them.
 *
 * helm names a template `<Chart.yaml name>/templates/x.yaml[:line[:col]]` (also inside parentheses,
 * `parse error at (demo/templates/x.yaml:1)`, or after `YAML parse error on`, where the line helm prints
 * is one of the rendered output, not the source: it is kept in the message only). `helm lint` prints
 * `[ERROR] <path in the chart>: <message>` lines, continued by indented lines. A problem's file is named
 * the way package files are named elsewhere: `<label>/<package-relative path>`.
 */
import { posix } from "node:path";
import type { Problem } from "@productive-k3s/pkg-format/errors";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";

/** A chart inside a package, as problems name its files. */
export interface ChartFiles {
  /** Chart.yaml `name`: the prefix helm puts on template paths. */
  name: string;
  /** Package-relative chart directory, e.g. `charts/demo`. */
  dir: string;
  /** How the package is named in problems (the source directory as given, or the .tgz file name). */
  label: string;
  /** Package-relative values files given with -f (package ones relative, the user's absolute). */
  valuesFiles: readonly string[];
}

interface Location {
  file: string;
  line?: number | undefined;
  column?: number | undefined;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `<label>/<rel>` for a package file; absolute paths (the user's -f files) stay as they are. */
export function displayFile(chart: Pick<ChartFiles, "label">, rel: string): string {
  if (rel.startsWith("/")) return rel;
  return `${chart.label.replace(/\/+$/, "")}/${posix.normalize(rel).replace(/^(\.\/)+/, "")}`;
}

const chartDir = (chart: ChartFiles): string =>
  posix
    .normalize(chart.dir)
    .replace(/^(\.\/)+/, "")
    .replace(/\/+$/, "");

/** The most precise file a helm message names, or undefined. */
export function locateInMessage(message: string, chart: ChartFiles): Location | undefined {
  const template = new RegExp(`(?<![\\w./-])${escapeRegExp(chart.name)}/([^\\s:()"'<>]+)(?::(\\d+)(?::(\\d+))?)?`).exec(message);
  if (template !== null) {
    const rel = posix.join(chartDir(chart), template[1] ?? "");
    const yamlParse = message.slice(Math.max(0, template.index - 20), template.index).includes("YAML parse error on");
    return {
      file: displayFile(chart, rel),
      line: yamlParse || template[2] === undefined ? undefined : Number(template[2]),
      column: yamlParse || template[3] === undefined ? undefined : Number(template[3]),
    };
  }
  // In a values file or Chart.yaml, the YAML parser's line is the file's own.
  const line = yamlLine(message);
  const valuesFile = /failed to parse (\S+?):/.exec(message);
  if (valuesFile !== null) {
    const given = valuesFile[1] ?? "";
    const known = chart.valuesFiles.find((f) => f === given || posix.normalize(f) === posix.normalize(given));
    return { file: displayFile(chart, known ?? given), line };
  }
  if (/cannot load values\.yaml/.test(message)) return { file: displayFile(chart, posix.join(chartDir(chart), "values.yaml")), line };
  if (/cannot load Chart\.yaml|chart\.metadata/.test(message))
    return { file: displayFile(chart, posix.join(chartDir(chart), "Chart.yaml")) };
  return undefined;
}

function yamlLine(message: string): number | undefined {
  const m = /yaml: line (\d+):/.exec(message);
  return m === null ? undefined : Number(m[1]);
}

/** helm's own words, one line, terminal-safe (helm echoes template text, which comes from the package). */
function oneLine(text: string): string {
  return terminalLine(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .join(" "),
  );
}

/** A problem from a failed `helm template` (its stderr). */
export function templateProblem(stderr: string, chart: ChartFiles): Problem {
  const text = stderr
    .split("\n")
    .filter((l) => !/^Use --debug flag/.test(l))
    .join("\n")
    .replace(/^Error: /gm, "")
    .trim();
  const where = locateInMessage(text, chart) ?? { file: displayFile(chart, chartDir(chart)) };
  return { ...where, message: `helm template: ${oneLine(text) || "failed without a message"}`, severity: "error" };
}

/**
 * The problems of a `helm lint` run (its stdout): errors and warnings (INFO lines are advice and are
 * dropped). `strict` makes warnings errors, like `--strict` does for the manifest.
 */
export function lintProblems(stdout: string, chart: ChartFiles, strict: boolean): Problem[] {
  const entries: { severity: string; text: string }[] = [];
  for (const line of stdout.split("\n")) {
    const head = /^\[(ERROR|WARNING|INFO)\] ?(.*)$/.exec(line);
    if (head !== null) entries.push({ severity: head[1] ?? "", text: head[2] ?? "" });
    else if (/^\s/.test(line) && line.trim() !== "" && entries.length > 0) {
      const last = entries[entries.length - 1] as { text: string };
      last.text += `\n${line}`;
    }
  }
  const problems: Problem[] = [];
  for (const { severity, text } of entries) {
    if (severity === "INFO") continue;
    const colon = text.indexOf(": ");
    const path = colon < 0 ? "" : text.slice(0, colon);
    const message = colon < 0 ? text : text.slice(colon + 2);
    const inChart =
      path === "" || path.endsWith("/")
        ? undefined
        : {
            file: displayFile(chart, posix.join(chartDir(chart), path)),
            line: path.startsWith("templates/") ? undefined : yamlLine(message),
          };
    const where = locateInMessage(message, chart) ?? inChart ?? { file: displayFile(chart, posix.join(chartDir(chart), path)) };
    problems.push({
      ...where,
      message: `helm lint: ${oneLine(message)}`,
      severity: severity === "ERROR" || strict ? "error" : "warning",
    });
  }
  return problems;
}
