/**
 * Core's one door to the package format: open an addon.tgz (digest,
 * safe extraction, validation), validate one without extracting it, load a
 * source directory, pack a source.
 * A profile package handed to Core is a validation error.
 * Each loads only the pkg-format module it needs: the package index would also load packing, catalogs and the
 * JSON schemas (~50 ms of start-up for `addon validate`).
 */
import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ValidationError } from "@productive-k3s/pkg-format/errors";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import type { RunDir } from "./contract/run-dir.js";
import type { AddonView } from "./manifest-view.js";

export interface OpenedAddon {
  addon: AddonView;
  /** Extracted package root (manifest at its top): `<run>/addons/<name>`. */
  dir: string;
  /** The private run directory holding the extraction and Core's script library (removed by cleanup). */
  tempDir: string;
  /** The run directory's layout (contract/run-dir.ts). */
  run: RunDir;
  digest: string;
  size: number;
  warnings: import("@productive-k3s/pkg-format/errors").Problem[];
  cleanup(): Promise<void>;
}

function notAnAddon(file: string, kind: string): ValidationError {
  return new ValidationError(`${file} is a ${kind} package, not an add-on`, [], {
    where: file,
    hint: kind === "profile" ? "profiles are run by productive-k3s-infra (productive-k3s-infra profile install --tgz ...)" : undefined,
  });
}

/** Open a package into a fresh run directory (contract/run-dir.ts): its scripts can run from there. */
export async function openAddonPackage(tgz: string, options: { strict?: boolean } = {}): Promise<OpenedAddon> {
  const { openPackage } = await import("@productive-k3s/pkg-format/extract");
  const { onInterrupt } = await import("@productive-k3s/pkg-format/interrupts");
  const { createRunRoot, placePackage } = await import("./contract/run-dir.js");
  const root = await createRunRoot();
  const cleanup = () => rm(root, { recursive: true, force: true });
  // Ctrl-C while extracting: the run directory goes too (openPackage removes only its own extraction).
  const off = onInterrupt(() => rmSync(root, { recursive: true, force: true }));
  try {
    const opened = await openPackage(tgz, { strict: options.strict === true, tmpDir: join(root, "addons") });
    if (opened.pkg.kind !== "addon") throw notAnAddon(tgz, opened.pkg.kind);
    const addon: AddonView = opened.pkg.manifest;
    const run = await placePackage(root, assertValidName("package", addon.metadata.name, "metadata.name"), opened);
    return {
      addon,
      dir: run.pkgDir,
      tempDir: root,
      run,
      digest: opened.digest,
      size: opened.size,
      warnings: opened.pkg.warnings,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  } finally {
    off();
  }
}

/**
 * A package for `addon install`: `opened` (extracted) unless `extract` is false
 * and nothing is read from its files (no chart values to fingerprint, no chart
 * to render when `render` is set): a dry run then takes validateAddonArchive's
 * verdict, read from the stream.
 */
export interface AddonPackage {
  tgz: string;
  addon: AddonView;
  digest: string;
  warnings: import("@productive-k3s/pkg-format/errors").Problem[];
  opened: OpenedAddon | undefined;
}

export async function readAddonPackage(
  tgz: string,
  options: { strict?: boolean; extract: boolean; render?: boolean },
): Promise<AddonPackage> {
  if (!options.extract) {
    const v = await validateAddonArchive(tgz, options);
    const chart = v.addon.spec.chart;
    if (chart === undefined || ((chart.values ?? []).length === 0 && options.render !== true))
      return { tgz, addon: v.addon, digest: v.digest, warnings: v.warnings, opened: undefined };
  }
  const opened = await openAddonPackage(tgz, options);
  return { tgz, addon: opened.addon, digest: opened.digest, warnings: opened.warnings, opened };
}

/** `addon validate --tgz`: the same verdict as openAddonPackage, read from the archive stream without extracting it. */
export async function validateAddonArchive(
  tgz: string,
  options: { strict?: boolean } = {},
): Promise<{ addon: AddonView; digest: string; size: number; warnings: import("@productive-k3s/pkg-format/errors").Problem[] }> {
  const { validatePackageArchive } = await import("@productive-k3s/pkg-format/extract");
  const validated = await validatePackageArchive(tgz, { strict: options.strict === true });
  if (validated.pkg.kind !== "addon") throw notAnAddon(tgz, validated.pkg.kind);
  const addon: AddonView = validated.pkg.manifest;
  return { addon, digest: validated.digest, size: validated.size, warnings: validated.pkg.warnings };
}

/** An add-on source directory: spec.chart may name a remote chart, embedded when it is packed (operations/source-stage.ts). */
export async function loadAddonSource(
  dir: string,
  options: { strict?: boolean } = {},
): Promise<{ addon: AddonView; warnings: import("@productive-k3s/pkg-format/errors").Problem[] }> {
  const { loadPackageDir } = await import("@productive-k3s/pkg-format/package-validate");
  const pkg = await loadPackageDir(dir, { strict: options.strict === true, allowRemoteChart: true });
  if (pkg.kind !== "addon") throw notAnAddon(dir, pkg.kind);
  const addon: AddonView = pkg.manifest;
  return { addon, warnings: pkg.warnings };
}

export interface PackedAddon {
  file: string;
  name: string;
  version: string;
  digest: string;
  size: number;
}

export async function packAddonSource(source: string, outDir: string): Promise<PackedAddon> {
  const { packPackage } = await import("@productive-k3s/pkg-format/pack");
  const packed = await packPackage(source, outDir);
  if (packed.kind !== "addon") throw notAnAddon(source, packed.kind);
  return { file: packed.file, name: packed.name, version: packed.version, digest: packed.digest, size: packed.size };
}
