/**
 * Shared front half of plan/install/validate: open the package, resolve the
 * inputs, print warnings, fail with every problem at once (exit 4).
 */
import { warn } from "@productive-k3s/pkg-format/cli";
import { formatProblem, type Problem } from "@productive-k3s/pkg-format/errors";
import type { ProfileManifest } from "@productive-k3s/pkg-format/schema-profile";
import { terminalBlock } from "@productive-k3s/pkg-format/terminal-text";
import { ansibleBin } from "../engines/ansible.js";
import { tofuBin } from "../engines/opentofu.js";
import { checkedInstanceName } from "../state/instance-store.js";
import { type OpenedProfile, openProfile } from "./open-profile.js";
import { assertNoProblems, type InputOptions, type ResolvedInputs, resolveInputs } from "./resolve-inputs.js";

export interface PackageCommandOptions extends InputOptions {
  tgz: string;
  instance?: string | undefined;
  strict?: boolean;
}

export interface Prepared {
  profile: OpenedProfile;
  resolved: ResolvedInputs;
  instance: string;
}

/** Warnings may quote the package (field names, file names): printed terminal-safe. */
export function printWarnings(warnings: readonly Problem[]): void {
  for (const w of warnings) warn(terminalBlock(formatProblem(w).replace(/^warning: /, "")));
}

/** The engine's executable (exit 5 naming it when missing); `bash` for the script engine. */
export function requireEngineTool(manifest: ProfileManifest): string {
  switch (manifest.spec.engine.type) {
    case "opentofu":
      return tofuBin();
    case "ansible":
      return ansibleBin();
    default:
      return "bash";
  }
}

export async function prepare(options: PackageCommandOptions): Promise<Prepared> {
  if (options.instance !== undefined) checkedInstanceName(options.instance);
  const profile = await openProfile(options.tgz, { strict: options.strict === true });
  try {
    const instance = checkedInstanceName(options.instance ?? profile.manifest.metadata.name);
    const resolved = await resolveInputs(profile, options);
    printWarnings(resolved.warnings);
    assertNoProblems(profile, resolved);
    return { profile, resolved, instance };
  } catch (err) {
    await profile.cleanup();
    throw err;
  }
}
