/**
 * loadPackageDir: a package directory (source tree or extracted archive)
 * checked as a whole: manifest, every referenced path (exists, right kind,
 * inside the root), the Helm chart's Chart.yaml, profile.env and inputs.
 * All problems are reported at once in one ValidationError.
 */
import { lstat, readFile, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { MANIFEST_FILES, type PackageKind } from "./archive-scan.js";
import { parseEnvFile } from "./env-file.js";
import { type Problem, ValidationError } from "./errors.js";
import { type ParsedDocument, parseAddonManifest, parseProfileManifest, problemCountMessage, sortProblems } from "./manifest-parse.js";
import type { AddonManifest } from "./schema-addon.js";
import { unsafeRelativePath } from "./schema-common.js";
import type { ProfileManifest } from "./schema-profile.js";
import { type FieldPath, formatFieldPath, parseYamlSource } from "./yaml-source.js";

export const PROFILE_ENV_FILE = "profile.env";

interface LoadedBase {
  root: string;
  /** Absolute path of the manifest. */
  manifestFile: string;
  warnings: Problem[];
  /** Package-relative paths the manifest refers to (scripts, chart, values, working dir...). */
  references: string[];
}
export interface LoadedAddon extends LoadedBase {
  kind: "addon";
  manifest: AddonManifest;
  env?: undefined;
}
export interface LoadedProfile extends LoadedBase {
  kind: "profile";
  manifest: ProfileManifest;
  /** profile.env values (package defaults), {} when the file is absent. */
  env: Record<string, string>;
  /** Whether profile.env exists. */
  hasEnvFile: boolean;
}
export type LoadedPackage = LoadedAddon | LoadedProfile;

export interface LoadOptions {
  /** Unknown manifest fields and unresolved env references become errors. */
  strict?: boolean;
  /** How files are named in problems (default: the directory as given), e.g. "longhorn-1.0.0.tgz". */
  label?: string;
}

type Want = "file" | "dir" | "any";

export async function detectPackageKind(dir: string, label = dir): Promise<PackageKind> {
  const present: PackageKind[] = [];
  for (const kind of ["addon", "profile"] as const) {
    if (await isFile(join(dir, MANIFEST_FILES[kind]))) present.push(kind);
  }
  if (present.length === 0) {
    const exists = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    throw new ValidationError(
      exists ? `${label} is not a package: no addon.yaml or profile.yaml at its root` : `${label} is not a directory`,
      [],
      { where: label, hint: "a package directory has addon.yaml (add-on) or profile.yaml (profile) at its root" },
    );
  }
  if (present.length > 1) {
    throw new ValidationError(`${label} has both addon.yaml and profile.yaml`, [], {
      where: label,
      hint: "a package is either an addon or a profile",
    });
  }
  return present[0] as PackageKind;
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

export async function loadPackageDir(dir: string, options: LoadOptions = {}): Promise<LoadedPackage> {
  const root = resolve(dir);
  const label = options.label ?? dir;
  const kind = await detectPackageKind(root, label);
  const manifestName = MANIFEST_FILES[kind];
  const manifestFile = join(root, manifestName);
  const display = (rel: string) => `${label.replace(/\/+$/, "")}/${rel}`;
  const text = await readFile(manifestFile, "utf8");
  const parsed: ParsedDocument<AddonManifest | ProfileManifest> =
    kind === "addon"
      ? parseAddonManifest(text, display(manifestName), { strict: options.strict === true })
      : parseProfileManifest(text, display(manifestName), { strict: options.strict === true });
  const problems: Problem[] = [...parsed.warnings];
  const references: string[] = [];
  const realRoot = await realpath(root);

  const at = (path: FieldPath, message: string, file = display(manifestName)): Problem => {
    const loc = file === display(manifestName) ? parsed.locate(path) : undefined;
    return { file, line: loc?.line, column: loc?.column, path: formatFieldPath(path), message, severity: "error" };
  };

  /** Check one referenced path; returns its absolute path when it is fine. */
  const checkRef = async (rel: string, path: FieldPath, want: Want, what: string): Promise<string | undefined> => {
    const why = unsafeRelativePath(rel);
    if (why !== undefined) {
      problems.push(at(path, `expected a path inside the package, found ${JSON.stringify(rel)} which ${why}`));
      return undefined;
    }
    const abs = resolve(root, rel);
    references.push(relative(root, abs).split(sep).join("/"));
    let real: string;
    try {
      await lstat(abs);
      real = await realpath(abs);
    } catch {
      problems.push(at(path, `${what} ${JSON.stringify(rel)} does not exist in the package`));
      return undefined;
    }
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      problems.push(at(path, `${what} ${JSON.stringify(rel)} resolves outside the package (through a symbolic link)`));
      return undefined;
    }
    const s = await stat(real);
    if (want === "file" && !s.isFile()) problems.push(at(path, `expected ${what} ${JSON.stringify(rel)} to be a file, found a directory`));
    else if (want === "dir" && !s.isDirectory())
      problems.push(at(path, `expected ${what} ${JSON.stringify(rel)} to be a directory, found a file`));
    else return abs;
    return undefined;
  };

  if (kind === "addon") {
    const m = parsed.manifest as AddonManifest;
    const spec = m.spec;
    if (spec.chart !== undefined) {
      const chartDir = await checkRef(spec.chart.path, ["spec", "chart", "path"], "dir", "chart directory");
      if (chartDir !== undefined) problems.push(...(await checkChartYaml(chartDir, display(join(spec.chart.path, "Chart.yaml")))));
      for (const [i, v] of spec.chart.values.entries()) await checkRef(v, ["spec", "chart", "values", i], "file", "values file");
    }
    for (const step of ["install", "configure", "validate", "clean", "backup"] as const) {
      const ref = spec[step];
      if (ref !== undefined) await checkRef(ref.script, ["spec", step, "script"], "file", `${step} script`);
    }
    for (const [hook, script] of Object.entries(spec.hooks ?? {})) {
      if (typeof script === "string") await checkRef(script, ["spec", "hooks", hook], "file", `${hook} hook script`);
    }
    return finish({ kind: "addon", root, manifestFile, manifest: m, warnings: [], references });
  }

  const m = parsed.manifest as ProfileManifest;
  const engine = m.spec.engine;
  const workingDir = await checkRef(engine.workingDir, ["spec", "engine", "workingDir"], "dir", "engine working directory");
  if (workingDir !== undefined) {
    if (engine.playbook !== undefined) {
      await checkRef(join(engine.workingDir, engine.playbook), ["spec", "engine", "playbook"], "file", "playbook");
    }
    if (engine.inventory !== undefined) {
      await checkRef(join(engine.workingDir, engine.inventory), ["spec", "engine", "inventory"], "any", "inventory");
    }
  }
  for (const key of ["installScript", "planScript", "statusScript", "destroyScript"] as const) {
    const script = m.spec.execution?.[key];
    if (script !== undefined) await checkRef(script, ["spec", "execution", key], "file", key);
  }
  let env: Record<string, string> = {};
  let envReadable = true;
  const envPath = join(root, PROFILE_ENV_FILE);
  const hasEnvFile = await lstat(envPath).then(
    () => true,
    () => false,
  );
  if (hasEnvFile) {
    if (!(await isFile(envPath))) {
      problems.push({ file: display(PROFILE_ENV_FILE), message: "expected profile.env to be a regular file", severity: "error" });
    } else {
      try {
        const parsedEnv = parseEnvFile(await readFile(envPath, "utf8"), display(PROFILE_ENV_FILE), { strict: options.strict === true });
        env = parsedEnv.values;
        problems.push(...parsedEnv.warnings);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        problems.push(...err.problems);
        envReadable = false;
      }
    }
  }
  m.spec.inputs.forEach((input, i) => {
    if (envReadable && input.required && input.source === "package-default" && (env[input.name] ?? "") === "") {
      problems.push(
        at(
          ["spec", "inputs", i],
          `required input ${input.name} has source package-default, so profile.env must give it a non-empty value; found ${hasEnvFile ? (input.name in env ? "an empty value" : "no assignment") : "no profile.env"}`,
        ),
      );
    }
  });
  return finish({ kind: "profile", root, manifestFile, manifest: m, env, hasEnvFile, warnings: [], references });

  function finish<T extends LoadedPackage>(pkg: T): T {
    sortProblems(problems);
    if (problems.some((p) => p.severity === "error")) {
      throw new ValidationError(problemCountMessage(label, problems), problems, { where: label, hint: "fix the problems listed above" });
    }
    pkg.warnings = problems;
    return pkg;
  }
}

async function checkChartYaml(chartDir: string, file: string): Promise<Problem[]> {
  let text: string;
  try {
    text = await readFile(join(chartDir, "Chart.yaml"), "utf8");
  } catch {
    return [{ file, message: "the chart directory has no Chart.yaml (expected a Helm chart in directory form)", severity: "error" }];
  }
  const source = parseYamlSource(text, file);
  const problems = source.problems.filter((p) => p.severity === "error");
  if (problems.length > 0) return problems;
  const doc = source.value;
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return [{ file, line: 1, column: 1, message: "expected a mapping with apiVersion, name and version", severity: "error" }];
  }
  for (const key of ["apiVersion", "name", "version"]) {
    const v = (doc as Record<string, unknown>)[key];
    if (typeof v !== "string" || v === "") {
      const loc = source.locate([key]);
      problems.push({
        file,
        line: loc?.line,
        column: loc?.column,
        path: key,
        message:
          v === undefined
            ? "required field is missing (expected a non-empty string)"
            : `expected a non-empty string, found ${JSON.stringify(v)}`,
        severity: "error",
      });
    }
  }
  return problems;
}

/** True when `p` is a safe package-relative path (used for names that reach the filesystem). */
export function isSafeRelativePath(p: string): boolean {
  return unsafeRelativePath(p) === undefined && !isAbsolute(p);
}
