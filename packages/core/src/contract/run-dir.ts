/**
 * The run directory of an add-on package: the layout published add-on
 * scripts expect, with Core's runtime library where their relative paths
 * lead, all inside one private temp directory (0700) that is removed when
 * the run ends:
 *
 *   <run>/                            PRODUCTIVE_K3S_CORE_REPO_DIR
 *     scripts/runtime-contract.sh     Core's runtime contract
 *     scripts/addon-host-runtime.sh   Core's host helpers: <package>/scripts/../../../scripts/addon-host-runtime.sh
 *     scripts/pk3s-phase.sh           runs one phase of a script (dual-mode or plain)
 *     bin/kubectl                     kubectl bound to the run's cluster (PK3S_KUBECTL_BIN)
 *     addons/<name>/                  the extracted package: every step runs from here
 *     work/                           what a run writes for itself (configure answers)
 *
 * The relative paths the published scripts use resolve inside <run>, never
 * outside it. The library files come from this package's `runtime/` folder.
 */
import { chmod, copyFile, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePrivateDir } from "@productive-k3s/pkg-format/paths";
import { packageRoot } from "@productive-k3s/pkg-format/version";

export interface RunDir {
  /** `<run>`: PRODUCTIVE_K3S_CORE_REPO_DIR. */
  root: string;
  /** `<run>/addons/<name>`: the package root. */
  pkgDir: string;
  /** `<run>/bin/kubectl`. */
  kubectl: string;
  /** `<run>/work`. */
  work: string;
}

/** The phase driver, relative to the package root (what a dry run prints is what runs). */
export const PHASE_DRIVER = "../../scripts/pk3s-phase.sh";
/** Folder of a run's own files, relative to the package root. */
export const WORK_DIR = "../../work";

/** `runtime/` of @productive-k3s/core (from src/, dist/ or the bundled dist/cli/). */
export function runtimeDir(): string {
  const root = packageRoot(import.meta.url);
  if (root === undefined) throw new Error("unreachable: @productive-k3s/core has a package.json");
  return join(root.dir, "runtime");
}

/** A fresh private run directory with Core's library in place and an empty `addons/`. */
export async function createRunRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "pk3s-core-run-"));
  try {
    await chmod(root, 0o700);
    const source = runtimeDir();
    for (const sub of ["scripts", "bin"]) {
      await ensurePrivateDir(join(root, sub));
      for (const file of await readdir(join(source, sub))) {
        await copyFile(join(source, sub, file), join(root, sub, file));
        await chmod(join(root, sub, file), 0o755);
      }
    }
    await ensurePrivateDir(join(root, "addons"));
    await ensurePrivateDir(join(root, "work"));
    return root;
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Move an extraction made under `<run>/addons/` to `<run>/addons/<name>`
 * (its root may be the extraction folder itself or one wrapper folder in it).
 */
export async function placePackage(root: string, name: string, extracted: { dir: string; root: string }): Promise<RunDir> {
  const pkgDir = join(root, "addons", name);
  await rename(extracted.root, pkgDir);
  if (extracted.dir !== extracted.root) await rm(extracted.dir, { recursive: true, force: true });
  return { root, pkgDir, kubectl: join(root, "bin", "kubectl"), work: join(root, "work") };
}
