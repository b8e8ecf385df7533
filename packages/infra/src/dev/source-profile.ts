/**
 * The development (source-first) layout, as in the published profiles
 * repository and shared/compat:
 *
 *   <root>/profiles/<category>/<scenario-dir>/<name>.env          PK3S_INFRA_PROFILE_NAME, PK3S_INFRA_SCENARIO,
 *                                                                PK3S_INFRA_ENGINE + the defaults
 *   <root>/profiles/<category>/<scenario-dir>/<name>.package.yaml sidecar: inputs (+ optional version, description,
 *                                                                runtime, execution, engine{workingDir,playbook,inventory})
 *   <root>/scenarios/<category>/<PK3S_INFRA_SCENARIO>/           the scenario's assets
 *   <root>/shared/                                               optional helpers, embedded when present
 *
 * The root is the nearest ancestor of the env file that has `scenarios/`
 * and holds the env file under its `profiles/` (or `--root`).
 *
 * Packaging writes a package source dir (profile.yaml generated from env +
 * sidecar, profile.env = the source env file verbatim, scenario/ = the
 * scenario, shared/ when present) and packs it with pkg-format's
 * deterministic packer. The engine's workingDir defaults to the scenario's
 * engine subfolder when there is one (opentofu: opentofu/, tofu/ or
 * terraform/ holding *.tf; ansible: ansible/ holding the playbook), else
 * the scenario itself.
 */
import { cp, lstat, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { parseEnvFile } from "@productive-k3s/pkg-format/env-file";
import { NotFoundError, type Problem, ValidationError } from "@productive-k3s/pkg-format/errors";
import { isValidName, nameRuleText } from "@productive-k3s/pkg-format/names";
import { fileTypeName, notRegularFileError, readRegularText } from "@productive-k3s/pkg-format/regular-file";
import { quoteForTerminal } from "@productive-k3s/pkg-format/terminal-text";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { engineKind } from "../engines/engine-for.js";
import { isDir } from "../path-kind.js";

export interface SourceProfile {
  envFile: string;
  envText: string;
  root: string;
  category: string;
  profileName: string;
  scenario: string;
  engine: string;
  scenarioDir: string;
  sidecarFile: string | undefined;
  sidecar: Record<string, unknown>;
}

function findRoot(envFile: string): string | undefined {
  let dir = dirname(envFile);
  for (let i = 0; i < 64; i++) {
    const parent = dirname(dir);
    if (basename(dir) === "profiles") return parent;
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

export async function readSourceProfile(profileEnv: string, options: { root?: string | undefined } = {}): Promise<SourceProfile> {
  const envFile = resolve(profileEnv);
  let envText: string;
  try {
    envText = await readRegularText(envFile, "profile env file");
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new NotFoundError(`profile env file ${profileEnv} does not exist`, {
      where: profileEnv,
      hint: "pass --profile-env ./profiles/<category>/<scenario>/<name>.env",
    });
  }
  const env = parseEnvFile(envText, profileEnv).values;
  const problems: Problem[] = [];
  for (const key of ["PK3S_INFRA_PROFILE_NAME", "PK3S_INFRA_SCENARIO", "PK3S_INFRA_ENGINE"]) {
    const value = env[key];
    if (!value)
      problems.push({ file: profileEnv, path: key, severity: "error", message: `${key} is required in a source profile env file` });
    else if (key !== "PK3S_INFRA_ENGINE" && !isValidName("package", value)) {
      // The profile name becomes the default instance directory, the scenario a path under scenarios/.
      problems.push({
        file: profileEnv,
        path: key,
        severity: "error",
        message: `invalid ${key} ${quoteForTerminal(value)}: use ${nameRuleText("package")}`,
      });
    }
  }
  const root = options.root === undefined ? findRoot(envFile) : resolve(options.root);
  if (root === undefined) {
    problems.push({
      file: profileEnv,
      severity: "error",
      message: "the env file is not under a profiles/ directory, so the repository root is unknown (pass --root)",
    });
  }
  if (problems.length > 0) throw new ValidationError(`${profileEnv} is not a source profile`, problems, { where: profileEnv });
  const repoRoot = root as string;
  const rel = relative(join(repoRoot, "profiles"), envFile).split(sep);
  const category = rel.length >= 2 ? (rel[0] as string) : "";
  const scenario = env.PK3S_INFRA_SCENARIO as string;
  let scenarioDir = join(repoRoot, "scenarios", category, scenario);
  if (!(await isDir(scenarioDir))) {
    // Fall back to a unique scenarios/<any category>/<scenario>.
    const matches: string[] = [];
    for (const c of await readdir(join(repoRoot, "scenarios")).catch(() => [] as string[])) {
      if (await isDir(join(repoRoot, "scenarios", c, scenario))) matches.push(join(repoRoot, "scenarios", c, scenario));
    }
    if (matches.length !== 1) {
      throw new NotFoundError(`scenario ${scenario} not found: expected ${relative(process.cwd(), scenarioDir) || scenarioDir}`, {
        where: profileEnv,
        hint: `PK3S_INFRA_SCENARIO names a directory under ${join(repoRoot, "scenarios", category)}`,
      });
    }
    scenarioDir = matches[0] as string;
  }
  const sidecarFile = join(dirname(envFile), `${basename(envFile).replace(/\.env$/, "")}.package.yaml`);
  let sidecar: Record<string, unknown> = {};
  let sidecarFound: string | undefined;
  try {
    const text = await readRegularText(sidecarFile, "sidecar");
    sidecarFound = sidecarFile;
    const parsed: unknown = parseYaml(text);
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new ValidationError(`${sidecarFile} must be a mapping`, [
          { file: sidecarFile, severity: "error", message: "expected a mapping with an inputs list" },
        ]);
      }
      sidecar = parsed as Record<string, unknown>;
    }
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new ValidationError(`${sidecarFile} is not valid YAML: ${(err as Error).message}`, [], { where: sidecarFile });
    }
  }
  return {
    envFile,
    envText,
    root: repoRoot,
    category,
    profileName: env.PK3S_INFRA_PROFILE_NAME as string,
    scenario,
    engine: env.PK3S_INFRA_ENGINE as string,
    scenarioDir,
    sidecarFile: sidecarFound,
    sidecar,
  };
}

/** The scenario subfolder holding the engine's root (the engine's source layout), if any. */
async function engineSubdir(scenarioDir: string, engine: string): Promise<string | undefined> {
  const layout = engineKind(engine)?.sourceLayout;
  for (const c of layout?.dirs ?? []) {
    const dir = join(scenarioDir, c);
    if (!(await isDir(dir))) continue;
    if ((await readdir(dir)).some((f) => layout?.isAsset(f) === true)) return c;
  }
  return undefined;
}

/** The profile.yaml content generated from the env file and the sidecar. */
export async function generateManifest(src: SourceProfile): Promise<Record<string, unknown>> {
  const side = src.sidecar;
  const env = parseEnvFile(src.envText, src.envFile).values;
  const sub = await engineSubdir(src.scenarioDir, src.engine);
  const sideEngine = (typeof side.engine === "object" && side.engine !== null ? side.engine : {}) as Record<string, unknown>;
  const engine: Record<string, unknown> = {
    type: src.engine,
    workingDir: sub === undefined ? "scenario" : `scenario/${sub}`,
    ...sideEngine,
  };
  const spec: Record<string, unknown> = { scenario: { type: src.scenario }, engine };
  if (side.runtime !== undefined) spec.runtime = side.runtime;
  spec.inputs = side.inputs ?? [];
  if (side.execution !== undefined) spec.execution = side.execution;
  const version = side.version ?? env.PK3S_INFRA_PROFILE_VERSION ?? "0.0.0-dev";
  const metadata: Record<string, unknown> = {
    name: src.profileName,
    version: String(version),
    category: side.category ?? (src.category || "uncategorized"),
  };
  if (side.description !== undefined) metadata.description = side.description;
  return { apiVersion: "infra.productive-k3s.io/v1", kind: "Profile", metadata, spec };
}

/** A FIFO, socket or device in the source is a validation error naming it (the packer's rule), before any copy of it. */
async function refuseSpecialFiles(source: string): Promise<boolean> {
  const st = await lstat(source);
  if (!st.isFile() && !st.isDirectory() && !st.isSymbolicLink()) throw notRegularFileError(source, fileTypeName(st));
  return true;
}

/** Write the package source dir for a source profile into a fresh temp dir. */
export async function writePackageSource(src: SourceProfile): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "pk3s-profile-src-"));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await writeFile(
      join(dir, "profile.yaml"),
      `# generated from ${basename(src.envFile)} and its .package.yaml sidecar\n${stringifyYaml(await generateManifest(src))}`,
    );
    await writeFile(join(dir, "profile.env"), src.envText);
    await cp(src.scenarioDir, join(dir, "scenario"), { recursive: true, filter: refuseSpecialFiles });
    if (await isDir(join(src.root, "shared")))
      await cp(join(src.root, "shared"), join(dir, "shared"), { recursive: true, filter: refuseSpecialFiles });
    return { dir, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Point problems found in the generated profile.yaml at the sidecar / env file they come from. */
function relocate(err: unknown, src: SourceProfile, stagedDir: string): unknown {
  if (!(err instanceof ValidationError)) return err;
  // Files copied into the staging dir are named where they really are.
  const sourceOf = (file: string | undefined): string | undefined => {
    for (const [staged, real] of [
      [join(stagedDir, "scenario"), src.scenarioDir],
      [join(stagedDir, "shared"), join(src.root, "shared")],
    ] as const) {
      if (file === staged || file?.startsWith(`${staged}${sep}`)) return real + file.slice(staged.length);
    }
    return file;
  };
  const problems = err.problems.map((p0) => {
    const p = { ...p0, file: sourceOf(p0.file) };
    if (p.path?.startsWith("spec.inputs") && src.sidecarFile !== undefined) {
      return { ...p, file: src.sidecarFile, line: undefined, column: undefined, path: p.path.replace(/^spec\./, "") };
    }
    if (p.file?.endsWith("profile.yaml"))
      return { ...p, file: `${src.envFile} (generated profile.yaml)`, line: undefined, column: undefined };
    return p;
  });
  const message = err.message
    .split(stagedDir)
    .join(src.envFile)
    .replace(/\S*profile\.yaml/g, `${basename(src.envFile)}`);
  return new ValidationError(message, problems, {
    where: src.envFile,
    hint: err.hint,
  });
}

export interface PackResult {
  file: string;
  name: string;
  version: string;
  digest: string;
  size: number;
}

/** Build the deterministic profile.tgz of a source profile into outDir. */
export async function packSourceProfile(
  profileEnv: string,
  outDir: string,
  options: { root?: string | undefined } = {},
): Promise<PackResult & { source: SourceProfile }> {
  const src = await readSourceProfile(profileEnv, options);
  const staged = await writePackageSource(src);
  try {
    const { packPackage } = await import("@productive-k3s/pkg-format/pack");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(outDir, { recursive: true });
    const packed = await packPackage(staged.dir, outDir).catch((err: unknown) => {
      throw relocate(err, src, staged.dir);
    });
    return { file: packed.file, name: packed.name, version: packed.version, digest: packed.digest, size: packed.size, source: src };
  } finally {
    await staged.cleanup();
  }
}

/** Package into a private temp dir for the dev commands; `cleanup` removes it. */
export async function packToTemp(
  profileEnv: string,
  options: { root?: string | undefined } = {},
): Promise<PackResult & { cleanup(): Promise<void> }> {
  const out = await mkdtemp(join(tmpdir(), "pk3s-dev-pkg-"));
  try {
    const packed = await packSourceProfile(profileEnv, out, options);
    return { ...packed, cleanup: () => rm(out, { recursive: true, force: true }) };
  } catch (err) {
    await rm(out, { recursive: true, force: true });
    throw err;
  }
}
