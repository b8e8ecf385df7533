/**
 * What an engine is, for the operations: they run plan, install, destroy and
 * status through this interface and never name an engine (OpenTofu, Ansible,
 * script). One implementation per engine (opentofu.ts, ansible.ts,
 * script.ts); engine-for.ts picks it from the manifest.
 *
 * An `Engine` is made for one profile and one command: `apply` may keep what
 * the scenario reported for `outputs` to return.
 */
import type { Problem } from "@productive-k3s/pkg-format/errors";
import type { ProfileManifest } from "@productive-k3s/pkg-format/schema-profile";
import type { EngineRun } from "./engine-run.js";
import type { OutputSet } from "./outputs-file.js";

export interface PlanChanges {
  add: number;
  change: number;
  destroy: number;
}

export function describeChanges(c: PlanChanges): string {
  return `Plan: ${c.add} to add, ${c.change} to change, ${c.destroy} to destroy.`;
}

/** What `variables` gets: the values after the env merge, and the engine's root in the extraction. */
export interface VariablesInput {
  workingDir: string;
  values: Record<string, string>;
  /** Names of required inputs that are missing (a variable fed by one is not reported twice). */
  missingInputs: ReadonlySet<string>;
}

/** The engine's view of the inputs. */
export interface EngineVariables {
  /** Problems with the engine's assets or with values the engine cannot take (exit 4). */
  problems: Problem[];
  /** Extra child environment derived from the values (OpenTofu: TF_VAR_<v>). */
  env: Record<string, string>;
  /** Engine variable → the key feeding it (engines that declare variables). */
  variables?: Record<string, string>;
  /** Keys whose values must be treated as secrets (they feed a variable the scenario marks sensitive). */
  sensitiveKeys: string[];
}

/** A plan kept for `install` to apply (OpenTofu's saved plan file). */
export interface KeptPlan {
  file: string;
  changes: PlanChanges;
}

export interface PlanOutcome {
  /** One line for the user. */
  summary: string;
  changes?: PlanChanges;
  /** Set when the plan was saved for install. */
  kept?: KeptPlan;
}

export interface ApplyContext {
  /** The plan `profile plan` saved, when it is for exactly this package and these inputs and its file exists. */
  savedPlan?: { runId: string; file: string; changes?: PlanChanges };
  /** A plan was saved, but the package or the inputs changed since. */
  savedPlanIsStale: boolean;
  /** A plan made during apply, before asking: kept if the user declines, so a later install can apply it. */
  keepPlan(plan: KeptPlan): Promise<void>;
  /** Ask before changing anything (throws when declined); `question` says what will run. */
  approve(question: string): Promise<void>;
}

export interface ApplyOutcome {
  changes?: PlanChanges;
  /** Whether the plan saved by `profile plan` was applied. */
  appliedSavedPlan?: boolean;
}

export interface Engine {
  /** spec.engine.type, after the `shell` alias. */
  readonly type: string;
  /**
   * Whether spec.execution.installScript IS the apply (the script engine); otherwise it runs after the
   * engine's apply, with the outputs so far.
   */
  readonly installScriptIsApply: boolean;
  /** The executable this engine runs (exit 5 naming it when missing). */
  tool(): string;
  /** Whether the machines the engine changes are this one (target compatibility is then checked here). */
  target(): "this-machine" | "remote";
  /** One sentence for `validate`: where the engine's changes happen (e.g. "runs on this machine: …"). */
  describeTarget(): string;
  variables(input: VariablesInput): Promise<EngineVariables>;
  plan(run: EngineRun): Promise<PlanOutcome>;
  apply(run: EngineRun, context: ApplyContext): Promise<ApplyOutcome>;
  /** The outputs after `apply`. */
  outputs(run: EngineRun): Promise<OutputSet>;
  /** Tear down what apply created; `note` says when the engine removed nothing. */
  destroy(run: EngineRun, context: { destroyScriptRan: boolean }): Promise<{ note?: string }>;
}

/** An engine type: how to make its Engine, and what is known about it without a package. */
export interface EngineKind {
  readonly type: string;
  create(manifest: ProfileManifest): Engine;
  /** What `status` reads from the engine's persistent state (no tool runs). */
  stateSummary(engineDir: string): Promise<{ resources?: number }>;
  /** Dev layout: the scenario subfolders that may hold this engine's root, and which files mark it. */
  sourceLayout?: { dirs: readonly string[]; isAsset(file: string): boolean };
}
