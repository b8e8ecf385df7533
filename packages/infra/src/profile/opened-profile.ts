/**
 * Opening a profile.tgz: digest + safe extraction + manifest validation
 * (pkg-format's openPackage), refusing add-on packages. The extraction is
 * removed by `cleanup`, or when the process exits first (a second Ctrl-C).
 */
import { access } from "node:fs/promises";
import { NotFoundError, ValidationError } from "@productive-k3s/pkg-format/errors";
import type { ProfileManifest } from "@productive-k3s/pkg-format/schema-profile";
import { removeOnExit } from "../private-temp.js";

export interface OpenedProfile {
  tgz: string;
  manifest: ProfileManifest;
  /** Directory holding profile.yaml inside the extraction. */
  root: string;
  /** profile.env values (package defaults). */
  env: Record<string, string>;
  digest: string;
  size: number;
  warnings: { message: string }[];
  cleanup(): Promise<void>;
}

export async function openProfile(tgz: string, options: { strict?: boolean } = {}): Promise<OpenedProfile> {
  try {
    await access(tgz);
  } catch {
    throw new NotFoundError(`package ${tgz} does not exist`, { where: tgz, hint: "check the --tgz path" });
  }
  const { openPackage } = await import("@productive-k3s/pkg-format/extract");
  const opened = await openPackage(tgz, { strict: options.strict === true });
  if (opened.pkg.kind !== "profile") {
    await opened.cleanup();
    throw new ValidationError(`${tgz} is an ${opened.pkg.kind} package, not a profile`, [], {
      where: tgz,
      hint: "add-on packages are installed with productive-k3s-core addon install --tgz",
    });
  }
  const forget = removeOnExit(opened.dir);
  return {
    tgz,
    manifest: opened.pkg.manifest as ProfileManifest,
    root: opened.pkg.root,
    env: opened.pkg.env ?? {},
    digest: opened.digest,
    size: opened.size,
    warnings: opened.pkg.warnings,
    cleanup: async () => {
      await opened.cleanup();
      forget();
    },
  };
}
