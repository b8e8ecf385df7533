/**
 * The exact values a profile runs with, as resolved from its package, the
 * values stored with the instance, env files and --set (operations/resolve-inputs.ts
 * builds it; engines read it).
 */
import type { Problem } from "@productive-k3s/pkg-format/errors";
import type { MergedEnv } from "../env/merge.js";
import type { SecretSet } from "../secrets.js";

/** An input the invoking machine must supply at install (listed by a contract check). */
export interface NeededInput {
  name: string;
  required: boolean;
  sensitive: boolean;
  source: "local-override" | "either";
  description?: string;
}

export interface ResolvedInputs {
  merged: MergedEnv;
  /** Values handed to the engine (all merged keys). */
  env: Record<string, string>;
  /** Extra child environment the engine derives from the values (TF_VAR_<v> for OpenTofu). */
  engineEnv: Record<string, string>;
  /** Engine variable → the key feeding it, for engines that declare variables (OpenTofu). */
  variables?: Record<string, string>;
  /** Names whose values are never stored (sensitive inputs, keys feeding sensitive variables, undeclared keys). */
  sensitiveNames: string[];
  secrets: SecretSet;
  problems: Problem[];
  warnings: Problem[];
  /**
   * Contract check only (values not demanded): the inputs an install will need from the invoking
   * machine. Their absence is not a problem then.
   */
  needed: NeededInput[];
  /** The engine's root inside the extraction (spec.engine.workingDir). */
  workingDir: string;
}
