/**
 * The package rules (validatePackageTree), read through a PackageTree so one
 * code path serves a directory (loadPackageDir: source tree or extraction)
 * and an archive scanned in memory (validatePackageArchive in extract.ts):
 * manifest, every referenced path (exists, right kind, inside the root), the
 * Helm chart's Chart.yaml, profile.env and inputs. All problems are reported
 * at once in one ValidationError.
 */
import { stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, posix, resolve } from "node:path";
import { type Problem, ValidationError } from "../errors.js";
import { parseEnvFile } from "../format/env-file.js";
import {
  type ParsedDocument,
  parseAddonManifest,
  parseProfileManifest,
  parseStackManifest,
  problemCountMessage,
  sortProblems,
} from "../format/manifest-parse.js";
import { unsafeRelativePath } from "../format/patterns.js";
import type { AddonManifest } from "../format/schema-addon.js";
import type { ProfileManifest } from "../format/schema-profile.js";
import type { StackManifest } from "../format/schema-stack.js";
import { type FieldPath, formatFieldPath, parseYamlSource } from "../format/yaml-source.js";
import { MANIFEST_FILES, MANIFEST_LIST, type PackageKind } from "./archive-scan.js";
import { directoryTree, type PackageTree } from "./package-tree.js";

export const PROFILE_ENV_FILE = "profile.env";

interface ValidatedBase {
  warnings: Problem[];
  /** Package-relative paths the manifest refers to (scripts, chart, values, working dir...). */
  references: string[];
}
/** An add-on checked as a whole, wherever its files are (directory or archive). */
export interface ValidatedAddon extends ValidatedBase {
  kind: "addon";
  manifest: AddonManifest;
  env?: undefined;
}
export interface ValidatedProfile extends ValidatedBase {
  kind: "profile";
  manifest: ProfileManifest;
  /** profile.env values (package defaults), {} when the file is absent. */
  env: Record<string, string>;
  /** Whether profile.env exists. */
  hasEnvFile: boolean;
}
/** A stack: its manifest; the values files and bundled packages it names are checked to be in the package. */
export interface ValidatedStack extends ValidatedBase {
  kind: "stack";
  manifest: StackManifest;
  env?: undefined;
}
export type ValidatedPackage = ValidatedAddon | ValidatedProfile | ValidatedStack;

interface OnDisk {
  root: string;
  /** Absolute path of the manifest. */
  manifestFile: string;
}
export interface LoadedAddon extends ValidatedAddon, OnDisk {}
export interface LoadedProfile extends ValidatedProfile, OnDisk {}
export interface LoadedStack extends ValidatedStack, OnDisk {}
export type LoadedPackage = LoadedAddon | LoadedProfile | LoadedStack;

export interface LoadOptions {
  /** Unknown manifest fields and unresolved env references become errors. */
  strict?: boolean;
  /** How files are named in problems (default: the directory as given), e.g. "longhorn-1.0.0.tgz". */
  label?: string;
  /** The manifest's package-relative file name when it is not the kind's own (a stack file named prod.yaml). */
  manifestName?: string;
  /**
   * An add-on source directory, not a package: spec.chart may name a remote chart (ref or repo), which
   * `dev addon package` pulls and embeds at charts/<name> (so that path must not exist yet). A package
   * always carries its chart.
   */
  allowRemoteChart?: boolean;
}

type Want = "file" | "dir" | "any";

/** What a tree entry of kind "other" is, in problems. */
const SPECIAL = "a FIFO, socket or device";

export async function detectPackageKind(dir: string, label = dir): Promise<PackageKind> {
  const present: PackageKind[] = [];
  for (const kind of Object.keys(MANIFEST_FILES) as PackageKind[]) {
    if (await isFile(join(dir, MANIFEST_FILES[kind]))) present.push(kind);
  }
  if (present.length === 0) {
    const exists = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    throw new ValidationError(exists ? `${label} is not a package: no ${MANIFEST_LIST} at its root` : `${label} is not a directory`, [], {
      where: label,
      hint: "a package directory has addon.yaml (add-on), profile.yaml (profile) or stack.yaml (stack) at its root",
    });
  }
  if (present.length > 1) {
    throw new ValidationError(`${label} has both ${present.map((k) => MANIFEST_FILES[k]).join(" and ")}`, [], {
      where: label,
      hint: "a package is one of an add-on, a profile or a stack",
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
  const checked = await validatePackageTree(await directoryTree(root), kind, { ...options, label });
  const manifestFile = join(root, MANIFEST_FILES[kind]);
  return { ...checked, root, manifestFile } as LoadedPackage;
}

/**
 * A stack file that is not (yet) a package: `pk3s stack ... FILE`. The file may have any name; its values files
 * and bundled packages are checked in its folder by the same rules as in a stack package.
 */
export async function loadStackFile(file: string, options: Omit<LoadOptions, "manifestName"> = {}): Promise<LoadedStack> {
  const manifestFile = resolve(file);
  const root = dirname(manifestFile);
  const label = options.label ?? dirname(file);
  const checked = await validatePackageTree(await directoryTree(root), "stack", {
    ...options,
    label,
    manifestName: basename(manifestFile),
  });
  return { ...(checked as ValidatedStack), root, manifestFile };
}

/**
 * The package rules, read through `tree`: manifest, every referenced path
 * (exists, right kind, inside the root), the chart's Chart.yaml, profile.env
 * and inputs. Throws ValidationError with all problems. `options.label`
 * names files in problems.
 */
export async function validatePackageTree(
  tree: PackageTree,
  kind: PackageKind,
  options: LoadOptions & { label: string },
): Promise<ValidatedPackage> {
  const label = options.label;
  const manifestName = options.manifestName ?? MANIFEST_FILES[kind];
  const display = (rel: string) => `${label.replace(/\/+$/, "")}/${rel}`;
  const text = await tree.readText(manifestName);
  if (text === undefined) {
    throw new ValidationError(`${display(manifestName)} cannot be read`, [], { where: label, hint: "check the file's permissions" });
  }
  const parse = { addon: parseAddonManifest, profile: parseProfileManifest, stack: parseStackManifest }[kind];
  const parsed: ParsedDocument<AddonManifest | ProfileManifest | StackManifest> = parse(text, display(manifestName), {
    strict: options.strict === true,
  });
  const problems: Problem[] = [...parsed.warnings];
  const references: string[] = [];

  const at = (path: FieldPath, message: string, file = display(manifestName)): Problem => {
    const loc = file === display(manifestName) ? parsed.locate(path) : undefined;
    return { file, line: loc?.line, column: loc?.column, path: formatFieldPath(path), message, severity: "error" };
  };

  /** Check one referenced path; returns its normalised package-relative path when it is fine. */
  const checkRef = async (ref: string, path: FieldPath, want: Want, what: string): Promise<string | undefined> => {
    const why = unsafeRelativePath(ref);
    if (why !== undefined) {
      problems.push(at(path, `expected a path inside the package, found ${JSON.stringify(ref)} which ${why}`));
      return undefined;
    }
    const rel = posix
      .normalize(ref)
      .replace(/^(\.\/)+/, "")
      .replace(/\/+$/, "");
    const normal = rel === "." ? "" : rel;
    references.push(normal);
    const found = await tree.kind(normal);
    if (found === undefined || found === "dangling") {
      problems.push(at(path, `${what} ${JSON.stringify(ref)} does not exist in the package`));
      return undefined;
    }
    if (found === "outside") {
      problems.push(at(path, `${what} ${JSON.stringify(ref)} resolves outside the package (through a symbolic link)`));
      return undefined;
    }
    if (want === "file" && found !== "file")
      problems.push(at(path, `expected ${what} ${JSON.stringify(ref)} to be a file, found ${found === "dir" ? "a directory" : SPECIAL}`));
    else if (want === "any" && found === "other")
      problems.push(at(path, `expected ${what} ${JSON.stringify(ref)} to be a file or directory, found ${SPECIAL}`));
    else if (want === "dir" && found !== "dir")
      problems.push(at(path, `expected ${what} ${JSON.stringify(ref)} to be a directory, found ${found === "file" ? "a file" : SPECIAL}`));
    else return normal;
    return undefined;
  };

  if (kind === "addon") {
    const m = parsed.manifest as AddonManifest;
    const spec = m.spec;
    if (spec.chart?.remote !== undefined) {
      const field = ["spec", "chart", spec.chart.remote.ref !== undefined ? "ref" : "repo"];
      if (options.allowRemoteChart !== true) {
        problems.push(
          at(
            field,
            "expected the chart inside the package (spec.chart.path): a remote chart is pulled and embedded by `productive-k3s-core dev addon package`",
          ),
        );
      } else if ((await tree.kind(spec.chart.path)) !== undefined) {
        problems.push(
          at(
            field,
            `${spec.chart.path} already exists in the source: the remote chart is embedded there when packing; remove it or use path`,
          ),
        );
      }
      for (const [i, v] of spec.chart.values.entries()) await checkRef(v, ["spec", "chart", "values", i], "file", "values file");
    } else if (spec.chart !== undefined) {
      const chartDir = await checkRef(spec.chart.path, ["spec", "chart", "path"], "dir", "chart directory");
      if (chartDir !== undefined) {
        const chartFile = display(join(spec.chart.path, "Chart.yaml"));
        try {
          const chartYaml = await tree.readText(posix.join(chartDir, "Chart.yaml"));
          problems.push(...checkChartYaml(chartYaml, chartFile));
        } catch (err) {
          // A FIFO, socket or device as Chart.yaml: reported with the others, never read.
          if (!(err instanceof ValidationError)) throw err;
          problems.push({ file: chartFile, message: err.problems[0]?.message ?? err.message, severity: "error" });
        }
      }
      for (const [i, v] of spec.chart.values.entries()) await checkRef(v, ["spec", "chart", "values", i], "file", "values file");
    }
    for (const step of ["install", "configure", "validate", "clean", "backup"] as const) {
      const ref = spec[step];
      if (ref !== undefined) await checkRef(ref.script, ["spec", step, "script"], "file", `${step} script`);
    }
    for (const [hook, script] of Object.entries(spec.hooks ?? {})) {
      if (typeof script === "string") await checkRef(script, ["spec", "hooks", hook], "file", `${hook} hook script`);
    }
    return finish({ kind: "addon", manifest: m, warnings: [], references });
  }

  if (kind === "stack") {
    const m = parsed.manifest as StackManifest;
    for (const [i, addon] of m.spec.addons.entries()) {
      if (addon.source !== undefined) await checkRef(addon.source, ["spec", "addons", i, "source"], "file", "bundled package");
      for (const [j, v] of addon.values.entries()) await checkRef(v, ["spec", "addons", i, "values", j], "file", "values file");
    }
    return finish({ kind: "stack", manifest: m, warnings: [], references });
  }

  const m = parsed.manifest as ProfileManifest;
  const engine = m.spec.engine;
  const workingDir = await checkRef(engine.workingDir, ["spec", "engine", "workingDir"], "dir", "engine working directory");
  if (workingDir !== undefined) {
    if (engine.playbook !== undefined) {
      await checkRef(join(engine.workingDir, engine.playbook), ["spec", "engine", "playbook"], "file", "playbook");
    }
    if (typeof engine.inventory === "string") {
      await checkRef(join(engine.workingDir, engine.inventory), ["spec", "engine", "inventory"], "any", "inventory");
    }
  }
  for (const key of ["installScript", "planScript", "statusScript", "destroyScript"] as const) {
    const script = m.spec.execution?.[key];
    if (script !== undefined) await checkRef(script, ["spec", "execution", key], "file", key);
  }
  let env: Record<string, string> = {};
  let envReadable = true;
  const envKind = await tree.kind(PROFILE_ENV_FILE);
  const hasEnvFile = envKind !== undefined;
  if (envKind === "outside") {
    problems.push({
      file: display(PROFILE_ENV_FILE),
      message: "profile.env resolves outside the package (through a symbolic link)",
      severity: "error",
    });
  } else if (hasEnvFile) {
    const envText = envKind === "file" ? await tree.readText(PROFILE_ENV_FILE) : undefined;
    if (envText === undefined) {
      problems.push({ file: display(PROFILE_ENV_FILE), message: "expected profile.env to be a regular file", severity: "error" });
    } else {
      try {
        const parsedEnv = parseEnvFile(envText, display(PROFILE_ENV_FILE), { strict: options.strict === true });
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
  return finish({ kind: "profile", manifest: m, env, hasEnvFile, warnings: [], references });

  function finish<T extends ValidatedPackage>(pkg: T): T {
    sortProblems(problems);
    if (problems.some((p) => p.severity === "error")) {
      throw new ValidationError(problemCountMessage(label, problems), problems, {
        where: label,
        hint:
          "each line names the file and field and what is expected: fix the package's sources there and pack it again " +
          "(productive-k3s-core dev addon package, productive-k3s-infra dev profile package); for a package you did not build, report it to its publisher",
      });
    }
    pkg.warnings = problems;
    return pkg;
  }
}

function checkChartYaml(text: string | undefined, file: string): Problem[] {
  if (text === undefined) {
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
