/** `profile validate`: the package, the inputs against spec.inputs and the scenario, target compatibility. Runs nothing. */
import type { Problem } from "@productive-k3s/pkg-format/errors";
import { engineFor } from "../engines/engine-for.js";
import { describeInputs } from "../env/merge.js";
import { openProfile } from "../profile/opened-profile.js";
import { printWarnings } from "./prepare.js";
import { assertNoProblems, type InputOptions, resolveInputs } from "./resolve-inputs.js";

export interface ValidateOptions extends InputOptions {
  tgz: string;
  strict?: boolean;
}

export interface ValidateResult {
  ok: true;
  profile: string;
  version: string;
  category: string;
  description?: string;
  digest: string;
  engine: string;
  scenario: string;
  inputs: ReturnType<typeof describeInputs>;
  variables?: Record<string, string>;
  warnings: Problem[];
}

export async function validateProfile(options: ValidateOptions): Promise<ValidateResult> {
  const profile = await openProfile(options.tgz, { strict: options.strict === true });
  try {
    const engine = engineFor(profile.manifest);
    const resolved = await resolveInputs(profile, options, engine);
    const warnings: Problem[] = [...profile.warnings.map((w) => ({ severity: "warning" as const, ...w })), ...resolved.warnings];
    try {
      engine.tool();
    } catch (err) {
      warnings.push({ severity: "warning", message: `${(err as Error).message}: plan/install/destroy will fail until it is installed` });
    }
    printWarnings(warnings);
    assertNoProblems(profile, resolved);
    const m = profile.manifest;
    return {
      ok: true,
      profile: m.metadata.name,
      version: m.metadata.version,
      category: m.metadata.category,
      ...(m.metadata.description === undefined ? {} : { description: m.metadata.description }),
      digest: profile.digest,
      engine: m.spec.engine.type,
      scenario: m.spec.scenario.type,
      inputs: describeInputs(m.spec.inputs, resolved.merged),
      ...(resolved.variables === undefined ? {} : { variables: resolved.variables }),
      warnings,
    };
  } finally {
    await profile.cleanup();
  }
}
