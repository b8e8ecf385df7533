/**
 * A stack through Core in ONE run (one cluster probe, one read of the
 * records): `addon install --tgz <last> --dependency-tgz <each earlier>…
 * --stack NAME [--stack-lock-digest D] [--package-options F] --json`, the
 * packages in install order. `--stack` makes Core decide every package like
 * the `--tgz` one (install, upgrade or nothing) and record the stack; the
 * options file carries each add-on's values, `--set` lines and namespace
 * (0600 in a private folder, removed afterwards, so `--set` values never
 * reach a command line). Core's own output streams to stderr; its JSON
 * document comes back per package.
 */

import { rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { log } from "@productive-k3s/pkg-format/cli";
import { type ExitCodeValue, Pk3sError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { onInterrupt } from "@productive-k3s/pkg-format/interrupts";
import { type CoreRunFlags, coreRunArgs } from "../delegate/core-run-flags.js";
import { runRuntime } from "../delegate/delegate.js";
import type { RuntimeCommand } from "../delegate/runtime-bin.js";
import { type CorePackageDoc, installedStates, parseCoreDoc } from "../operations/addon-install.js";
import type { InstalledState } from "../operations/runtime-status.js";
import type { StackPackage } from "./stack-packages.js";

/** A Core run that stopped a stack command: Core printed why; its exit code (and message) become the command's. */
export function coreFailed(core: RuntimeCommand, what: string, exitCode: number, message?: string): Pk3sError {
  return new Pk3sError("E_RUNTIME", exitCode as ExitCodeValue, message ?? `${core.binName} ${what} failed (exit ${exitCode})`, {
    where: core.path,
    hint: `${core.binName} said why above`,
  });
}

/** The cluster's install records by add-on name (Core's `addon list --json`); a failing Core stops the command. */
export async function installRecords(core: RuntimeCommand, cluster: string[]): Promise<Map<string, InstalledState>> {
  const listed = await installedStates(core, cluster);
  if (listed.exitCode !== 0) throw coreFailed(core, "addon list", listed.exitCode);
  return listed.states;
}

/** What pk3s reads of Core's answer for one package of the run. */
export interface CorePackageOutcome {
  action: "install" | "upgrade" | "none";
  previousVersion?: string | undefined;
  valuesFingerprint?: string | undefined;
  /** Core's notes for this package (why it upgrades, ...). */
  warnings: string[];
}

export interface CoreStackRun {
  exitCode: number;
  /** Per add-on name, when Core answered with its document (exit 0). */
  outcomes: Map<string, CorePackageOutcome>;
  /** On failure: the package Core's error names, if any (in a run of several packages the message starts with it). */
  failed?: string | undefined;
  /** On failure: Core's error message. */
  error?: string | undefined;
  /** The cluster as Core read it (a probe's result), when it answered. */
  clusterInfo?: { version?: string; distro?: string } | undefined;
}

export interface CoreStackRunOptions extends CoreRunFlags {
  stackName: string;
  lockDigest?: string | undefined;
  dryRun: boolean;
}

type Doc = CorePackageDoc & { valuesFingerprint?: unknown; warnings?: unknown; clusterInfo?: unknown };

function outcomeOf(doc: Doc): CorePackageOutcome | undefined {
  const action = doc.action;
  if (action !== "install" && action !== "upgrade" && action !== "none") return undefined;
  return {
    action,
    previousVersion: typeof doc.previousVersion === "string" ? doc.previousVersion : undefined,
    valuesFingerprint: typeof doc.valuesFingerprint === "string" ? doc.valuesFingerprint : undefined,
    warnings: Array.isArray(doc.warnings) ? doc.warnings.filter((w): w is string => typeof w === "string") : [],
  };
}

/** Write the options file when any package has options; returns the folder to remove and the Core flags. */
async function optionsFile(packages: readonly StackPackage[]): Promise<{ dir: string | undefined; args: string[] }> {
  const doc: Record<string, { values?: string[]; set?: string[]; namespace?: string }> = {};
  for (const p of packages) {
    const o = p.options;
    if (o.values.length === 0 && o.set.length === 0 && o.namespace === undefined) continue;
    doc[p.entry.name] = {
      ...(o.values.length === 0 ? {} : { values: o.values }),
      ...(o.set.length === 0 ? {} : { set: o.set }),
      ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
    };
  }
  if (Object.keys(doc).length === 0) return { dir: undefined, args: [] };
  const dir = await mkdtemp(join(tmpdir(), "pk3s-stack-"));
  const file = join(dir, "package-options.json");
  await writeFile(file, JSON.stringify(doc), { mode: 0o600, flag: "wx" });
  return { dir, args: ["--package-options", file] };
}

export async function runStackInCore(
  core: RuntimeCommand,
  cluster: readonly string[],
  packages: readonly StackPackage[],
  files: ReadonlyMap<string, string>,
  options: CoreStackRunOptions,
): Promise<CoreStackRun> {
  const last = packages.at(-1);
  if (last === undefined) throw new Error("unreachable: a stack has at least one add-on");
  const fileOf = (p: StackPackage): string => files.get(p.entry.name) as string;
  const { dir, args: optionArgs } = await optionsFile(packages);
  const off = dir === undefined ? () => undefined : onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const args = [
      "addon",
      "install",
      "--tgz",
      fileOf(last),
      ...packages.slice(0, -1).flatMap((p) => ["--dependency-tgz", fileOf(p)]),
      ...cluster,
      "--stack",
      options.stackName,
      ...(options.lockDigest === undefined ? [] : ["--stack-lock-digest", options.lockDigest]),
      ...optionArgs,
      ...coreRunArgs(options),
      ...(options.dryRun ? ["--dry-run"] : []),
      "--json",
    ];
    log(
      `${options.dryRun ? "planning" : "installing"} ${packages.length} package${packages.length === 1 ? "" : "s"} in one ${core.binName} run`,
    );
    const res = await runRuntime(core, args, { captureStdout: true });
    const doc = parseCoreDoc(res.stdout) as Doc | undefined;
    if (res.exitCode !== 0) {
      const message = typeof doc?.error?.message === "string" ? doc.error.message : undefined;
      const failed =
        packages.length === 1
          ? message === undefined
            ? undefined
            : last.entry.name
          : packages.find((p) => message?.startsWith(`${p.entry.name} ${p.entry.version}`) === true)?.entry.name;
      return { exitCode: res.exitCode, outcomes: new Map(), failed, error: message };
    }
    if (doc === undefined) throw new StepFailedError(`${core.binName} addon install --json did not print JSON`, { where: core.path });
    const outcomes = new Map<string, CorePackageOutcome>();
    const nested = Array.isArray(doc.dependencyPackages) ? (doc.dependencyPackages as Doc[]) : [];
    for (const d of [...nested, doc]) {
      const o = outcomeOf(d);
      if (typeof d.name === "string" && o !== undefined) outcomes.set(d.name, o);
    }
    for (const p of packages) {
      if (!outcomes.has(p.entry.name)) {
        throw new StepFailedError(`${core.binName} reported nothing for ${p.entry.name}@${p.entry.version}`, { where: core.path });
      }
    }
    const info = doc.clusterInfo as { version?: unknown; distro?: unknown } | undefined;
    const clusterInfo =
      info === undefined || info === null
        ? undefined
        : {
            version: typeof info.version === "string" ? info.version : undefined,
            distro: typeof info.distro === "string" ? info.distro : undefined,
          };
    return { exitCode: 0, outcomes, clusterInfo: clusterInfo as CoreStackRun["clusterInfo"] };
  } finally {
    off();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}
