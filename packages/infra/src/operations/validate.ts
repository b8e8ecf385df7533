/**
 * `profile validate`: the package, the inputs against spec.inputs and the scenario, target compatibility. Runs nothing.
 *
 * Two depths:
 * - contract check (no `--env-file`, no `--set`, no `--require-inputs`), for CI and package authors:
 *   schema, files, profile.env syntax, input declarations, package defaults, the engine's assets and
 *   declarations, placeholders. The inputs the invoking machine must supply are listed in `needs`, not
 *   demanded; this machine is not checked as the target.
 * - install check (values given, or `--require-inputs`): additionally every required input must have a
 *   value, and the values must suit the engine and the target, exactly as install would demand.
 */
import type { Problem } from "@productive-k3s/pkg-format/errors";
import { engineFor } from "../engines/engine-for.js";
import { describeInputs } from "../env/merge.js";
import { placeholderWarnings } from "../env/placeholders.js";
import { openProfile } from "../profile/opened-profile.js";
import type { NeededInput } from "../profile/resolved-inputs.js";
import { printWarnings } from "./prepare.js";
import { assertNoProblems, type InputOptions, resolveInputs } from "./resolve-inputs.js";

export interface ValidateOptions extends InputOptions {
  tgz: string;
  strict?: boolean;
  /** Demand values for every required input even without --env-file/--set. */
  requireInputs?: boolean;
}

export interface ValidateResult {
  ok: true;
  /** `contract`: values not demanded (see `needs`); `inputs`: checked with the given values, as install would. */
  mode: "contract" | "inputs";
  profile: string;
  version: string;
  category: string;
  description?: string;
  digest: string;
  engine: string;
  scenario: string;
  /** Where the engine's changes happen: `this-machine` or `remote`, and one sentence saying how. */
  target: { kind: "this-machine" | "remote"; summary: string };
  inputs: ReturnType<typeof describeInputs>;
  /** Contract check: the inputs an install needs from the invoking machine (--env-file or --set). */
  needs: NeededInput[];
  variables?: Record<string, string>;
  warnings: Problem[];
}

export async function validateProfile(options: ValidateOptions): Promise<ValidateResult> {
  const requireValues =
    options.requireInputs === true ||
    (options.envFiles ?? []).length > 0 ||
    (options.sets ?? []).length > 0 ||
    options.stored !== undefined;
  const profile = await openProfile(options.tgz, { strict: options.strict === true });
  try {
    const engine = engineFor(profile.manifest);
    const m = profile.manifest;
    const resolved = await resolveInputs(profile, { ...options, requireValues }, engine);
    const warnings: Problem[] = [
      ...profile.warnings.map((w) => ({ severity: "warning" as const, ...w })),
      ...resolved.warnings,
      ...placeholderWarnings(profile.env, m.spec.inputs),
    ];
    try {
      engine.tool();
    } catch (err) {
      warnings.push({ severity: "warning", message: `${(err as Error).message}: plan/install/destroy will fail until it is installed` });
    }
    printWarnings(warnings);
    assertNoProblems(profile, resolved);
    return {
      ok: true,
      mode: requireValues ? "inputs" : "contract",
      profile: m.metadata.name,
      version: m.metadata.version,
      category: m.metadata.category,
      ...(m.metadata.description === undefined ? {} : { description: m.metadata.description }),
      digest: profile.digest,
      engine: m.spec.engine.type,
      scenario: m.spec.scenario.type,
      target: { kind: engine.target(), summary: engine.describeTarget() },
      inputs: describeInputs(m.spec.inputs, resolved.merged),
      needs: resolved.needed,
      ...(resolved.variables === undefined ? {} : { variables: resolved.variables }),
      warnings,
    };
  } finally {
    await profile.cleanup();
  }
}
