/**
 * Shared front half of plan/install/validate: open the package, resolve the
 * inputs, print warnings, fail with every problem at once (exit 4).
 */
import { warn } from "@productive-k3s/pkg-format/cli";
import { formatProblem, type Problem } from "@productive-k3s/pkg-format/errors";
import { terminalBlock } from "@productive-k3s/pkg-format/terminal-text";
import type { Engine } from "../engines/engine.js";
import { engineFor } from "../engines/engine-for.js";
import { type OpenedProfile, openProfile } from "../profile/opened-profile.js";
import type { ResolvedInputs } from "../profile/resolved-inputs.js";
import { checkedInstanceName } from "../state/instance-store.js";
import { assertNoProblems, type InputOptions, resolveInputs } from "./resolve-inputs.js";

export interface PackageCommandOptions extends InputOptions {
  tgz: string;
  instance?: string | undefined;
  strict?: boolean;
}

export interface Prepared {
  profile: OpenedProfile;
  engine: Engine;
  resolved: ResolvedInputs;
  instance: string;
}

/** Warnings may quote the package (field names, file names): printed terminal-safe. */
export function printWarnings(warnings: readonly Problem[]): void {
  for (const w of warnings) warn(terminalBlock(formatProblem(w).replace(/^warning: /, "")));
}

export async function prepare(options: PackageCommandOptions): Promise<Prepared> {
  if (options.instance !== undefined) checkedInstanceName(options.instance);
  const profile = await openProfile(options.tgz, { strict: options.strict === true });
  try {
    const instance = checkedInstanceName(options.instance ?? profile.manifest.metadata.name);
    const engine = engineFor(profile.manifest);
    const resolved = await resolveInputs(profile, options, engine);
    printWarnings(resolved.warnings);
    assertNoProblems(profile, resolved);
    return { profile, engine, resolved, instance };
  } catch (err) {
    await profile.cleanup();
    throw err;
  }
}
