/**
 * `addon validate --tgz`, `dev addon validate --source`, `dev addon package`.
 */
import { rmSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { log } from "@productive-k3s/pkg-format/cli";
import { formatProblem, NotFoundError, type Problem } from "@productive-k3s/pkg-format/errors";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { AddonView } from "../manifest-view.js";
import { loadAddonSource, type PackedAddon, packAddonSource, validateAddonArchive } from "../package-access.js";
import { type InstallOptions, installAddon } from "./install.js";
import type { InstallResult } from "./install-result.js";

export interface ValidateResult {
  ok: true;
  kind: "addon";
  name: string;
  version: string;
  category?: string | undefined;
  description?: string | undefined;
  digest?: string | undefined;
  warnings: Problem[];
}

/** What a manifest says about itself, for the result. */
function about(addon: AddonView): Pick<ValidateResult, "name" | "version" | "category" | "description"> {
  const m = addon.metadata;
  return { name: m.name, version: m.version, category: m.category, description: m.description };
}

async function mustExist(path: string, what: string, dir: boolean): Promise<string> {
  const abs = resolve(path);
  const st = await stat(abs).catch(() => undefined);
  if (st === undefined || (dir ? !st.isDirectory() : !st.isFile()))
    throw new NotFoundError(`${what} ${path} not found`, { where: abs, hint: `check the ${dir ? "--source" : "--tgz"} path` });
  return abs;
}

export async function validatePackage(tgz: string, strict: boolean): Promise<ValidateResult> {
  const file = await mustExist(tgz, "package", false);
  const validated = await validateAddonArchive(file, { strict });
  return { ok: true, kind: "addon", ...about(validated.addon), digest: validated.digest, warnings: validated.warnings };
}

export async function validateSource(source: string, strict: boolean): Promise<ValidateResult> {
  const dir = await mustExist(source, "source directory", true);
  const { addon, warnings } = await loadAddonSource(dir, { strict });
  return { ok: true, kind: "addon", ...about(addon), warnings: [...warnings, ...(await referenceWarnings(dir, addon.metadata.name))] };
}

export async function packageSource(source: string, outDir: string): Promise<PackedAddon & { ok: true; warnings: Problem[] }> {
  const dir = await mustExist(source, "source directory", true);
  const packed = await packAddonSource(dir, resolve(outDir));
  const warnings = await referenceWarnings(dir, packed.name);
  for (const w of warnings) log(terminalLine(formatProblem(w)));
  return { ok: true, ...packed, warnings };
}

/** Script paths outside the package that Core's run directory does not provide (contract/script-references.ts). */
async function referenceWarnings(dir: string, name: string): Promise<Problem[]> {
  const { scriptReferenceWarnings } = await import("../contract/script-references.js");
  return scriptReferenceWarnings(dir, name);
}

/** `dev addon install --source`: pack the source exactly as `dev addon package` would, then run the package flow on it. */
export async function installSource(source: string, options: Omit<InstallOptions, "tgz">): Promise<InstallResult> {
  const dir = await mustExist(source, "source directory", true);
  const out = await mkdtemp(join(tmpdir(), "pk3s-core-dev-"));
  const { onInterrupt } = await import("@productive-k3s/pkg-format/process");
  const off = onInterrupt(() => rmSync(out, { recursive: true, force: true }));
  try {
    const packed = await packAddonSource(dir, out);
    process.stderr.write(`packed ${packed.name} ${packed.version} (${packed.digest}) from ${dir}\n`);
    return await installAddon({ ...options, tgz: packed.file });
  } finally {
    off();
    await rm(out, { recursive: true, force: true });
  }
}
