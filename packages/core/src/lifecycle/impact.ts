/**
 * `spec.impact`: what an add-on changes (the cluster, the machine Core runs
 * on), shown before anything runs. An add-on whose `impact.host` is true
 * changes this machine (packages, services, /etc/hosts, Docker trust, ...):
 * it runs only with the user's consent, `--allow-host-changes` or a yes on
 * a terminal; without it the run stops with exit 4 naming the capabilities.
 */
import { log, warn } from "@productive-k3s/pkg-format/cli";
import { type Problem, ValidationError } from "@productive-k3s/pkg-format/errors";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import type { AddonView } from "../manifest-view.js";
import { askYesNo, isInteractive } from "../terminal.js";

export interface Impact {
  cluster: boolean;
  host: boolean;
  summary?: string | undefined;
  hostCapabilities: string[];
}

/** How the run stands with the machine Core runs on. */
export type HostChanges =
  /** No package of the run declares impact.host. */
  | "not-needed"
  /** --allow-host-changes. */
  | "allowed"
  /** The user answered yes on the terminal. */
  | "confirmed"
  /** Dry run: a real run needs consent. */
  | "needed";

export function impactOf(addon: AddonView): Impact | undefined {
  const i = addon.spec.impact;
  if (i === undefined) return undefined;
  return { cluster: i.cluster === true, host: i.host === true, summary: i.summary, hostCapabilities: i.hostCapabilities ?? [] };
}

const capabilities = (i: Impact): string => (i.hostCapabilities.length === 0 ? "unspecified changes" : i.hostCapabilities.join(", "));

/** One line: `longhorn 0.1.0 changes the cluster and this machine (package-install, ...): <summary>`. */
export function impactLine(name: string, version: string, i: Impact): string {
  const what =
    i.cluster && i.host ? "the cluster and this machine" : i.host ? "this machine" : i.cluster ? "the cluster" : "nothing declared";
  const caps = i.host ? ` (${capabilities(i)})` : "";
  return terminalLine(`${name} ${version} changes ${what}${caps}${i.summary === undefined ? "" : `: ${i.summary}`}`);
}

export interface ImpactSubject {
  name: string;
  version: string;
  impact: Impact | undefined;
}

/**
 * Show every package's impact (stderr), then settle consent for the ones
 * that change this machine. Throws ValidationError (exit 4) without it.
 */
export async function settleHostChanges(subjects: readonly ImpactSubject[], allow: boolean, dryRun: boolean): Promise<HostChanges> {
  for (const s of subjects) if (s.impact !== undefined) log(`impact: ${impactLine(s.name, s.version, s.impact)}`);
  const host = subjects.filter((s) => s.impact?.host === true);
  if (host.length === 0) return "not-needed";
  if (allow) return "allowed";
  const list = host.map((s) => `${s.name} ${s.version} (${capabilities(s.impact as Impact)})`).join(", ");
  if (dryRun) {
    warn(`changes this machine: ${terminalLine(list)}; a real run needs --allow-host-changes (or a yes on a terminal)`);
    return "needed";
  }
  if (isInteractive() && (await askYesNo(`${terminalLine(list)} ${host.length === 1 ? "changes" : "change"} this machine. Allow?`))) {
    return "confirmed";
  }
  const problems: Problem[] = host.map((s) => ({
    file: "addon.yaml",
    path: "spec.impact.host",
    message: `${s.name} ${s.version} changes the machine Core runs on: ${capabilities(s.impact as Impact)}`,
    severity: "error",
  }));
  throw new ValidationError(`host changes not allowed: ${list}`, problems, {
    hint: "pass --allow-host-changes to let the add-on change this machine (or answer yes on a terminal)",
  });
}

export const hostChangesAllowed = (h: HostChanges): boolean => h === "allowed" || h === "confirmed";
