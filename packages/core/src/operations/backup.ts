/**
 * Backups of an installed add-on: its backup phase (`spec.backup.script`,
 * from the package kept at install time) run against the cluster into a
 * fresh folder.
 *
 *  - `addon backup NAME [--output DIR]`: into DIR (new or empty), or kept
 *    beside the install record (`backups/<id>/`);
 *  - upgrade, rollback and uninstall take one first (kept), unless `--no-backup`;
 *  - `addon backups NAME` lists the kept ones (they outlive an uninstall).
 *
 * The phase writes into a staging folder beside the destination, renamed
 * into place once it succeeded with its `backup.json`: a failed or
 * interrupted backup leaves nothing behind. Folders are 0700 and the phase
 * runs with umask 077 (backups hold secrets). Kept backups are limited to
 * PK3S_KEEP_BACKUPS (default 5), oldest removed first.
 */
import { rmSync } from "node:fs";
import { mkdir, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { readJsonFile, writeJsonAtomic } from "@productive-k3s/pkg-format/atomic";
import { warn } from "@productive-k3s/pkg-format/cli";
import { UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { onInterrupt } from "@productive-k3s/pkg-format/interrupts";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { terminalLine } from "@productive-k3s/pkg-format/terminal-text";
import { describeTarget, type KubeOptions, resolveKubeTarget } from "../cluster/kubeconfig.js";
import { resolveTools, type Tools } from "../cluster/tools.js";
import { parseTimeout, type Timeout } from "../duration.js";
import { phaseStep } from "../lifecycle/plan.js";
import { keptBackups } from "../records/retention.js";
import { BackupMeta } from "../records/schema.js";
import { backupsDir, clusterStore } from "../records/store.js";
import { newRunId, withAddonLock } from "./addon-run.js";
import { type Installed, openKeptPackage, readInstalled, runInstalledPhase } from "./installed-addon.js";

export interface BackupInfo extends BackupMeta {
  /** Where it is. */
  dir: string;
  /** Kept beside the install record (listed by `addon backups`), or written to --output. */
  kept: boolean;
}

export interface BackupOptions {
  installed: Installed;
  tools: Tools;
  reason: BackupMeta["reason"];
  /** `--output DIR`; default: kept beside the record. */
  output?: string | undefined;
  timeout: Timeout;
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  const st = await stat(dir).catch(() => undefined);
  if (st === undefined) return true;
  if (!st.isDirectory()) return false;
  return (await readdir(dir)).length === 0;
}

/**
 * Back the installed add-on up (the caller holds its lock). Undefined when
 * its kept package has no backup phase (or was not kept): nothing to run.
 */
export async function takeBackup(o: BackupOptions): Promise<BackupInfo | undefined> {
  const { store, record, target } = o.installed;
  const opened = await openKeptPackage(store, record.name);
  if (opened === undefined) return undefined;
  let stage: string | undefined;
  const off = onInterrupt(() => {
    if (stage !== undefined) rmSync(stage, { recursive: true, force: true });
    rmSync(opened.tempDir, { recursive: true, force: true });
  });
  try {
    const script = opened.addon.spec.backup?.script;
    if (script === undefined) return undefined;
    const kept = o.output === undefined;
    const id = newRunId();
    const dir = kept ? join(backupsDir(store, record.name), id) : resolve(o.output as string);
    if (!kept && !(await isEmptyOrMissing(dir))) {
      throw new UsageError(`--output ${o.output} is not an empty folder`, { where: dir, hint: "give a new or empty folder" });
    }
    await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
    stage = `${dir}.partial-${id}`;
    await mkdir(stage, { mode: 0o700 });
    const run = await runInstalledPhase({
      installed: o.installed,
      opened,
      tools: o.tools,
      step: phaseStep("backup", "backup", script, [stage]),
      action: "backup",
      headline: `Backing up ${record.name} ${record.version} from ${describeTarget(target)}`,
      timeout: o.timeout,
      runId: id,
    });
    if (run.failed !== undefined) throw run.failed.error;
    const meta: BackupMeta = {
      schemaVersion: 1,
      id: run.runId,
      name: record.name,
      version: record.version,
      digest: record.digest,
      reason: o.reason,
      createdAt: new Date().toISOString(),
      cluster: { server: target.server, context: target.context },
      runLog: run.logFile,
    };
    await writeJsonAtomic(join(stage, "backup.json"), meta);
    if (!kept) await rmdir(dir).catch(() => undefined);
    await rename(stage, dir);
    stage = undefined;
    if (kept) await pruneBackups(backupsDir(store, record.name));
    process.stderr.write(`backup of ${record.name} ${record.version}: ${dir}\n`);
    return { ...meta, dir, kept };
  } finally {
    off();
    if (stage !== undefined) await rm(stage, { recursive: true, force: true });
    await opened.cleanup();
  }
}

async function readBackups(dir: string): Promise<BackupInfo[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: BackupInfo[] = [];
  for (const n of names.sort()) {
    if (n.includes(".partial-")) continue;
    const file = join(dir, n, "backup.json");
    const parsed = BackupMeta.safeParse(await readJsonFile(file).catch(() => undefined));
    if (!parsed.success || parsed.data.id !== n) {
      warn(`ignoring ${terminalLine(join(dir, n))}: no valid backup.json`);
      continue;
    }
    out.push({ ...parsed.data, dir: join(dir, n), kept: true });
  }
  return out;
}

/** Keep the newest PK3S_KEEP_BACKUPS backups (ids sort by time). */
async function pruneBackups(dir: string): Promise<void> {
  const all = await readBackups(dir);
  for (const b of all.slice(0, Math.max(0, all.length - keptBackups()))) await rm(b.dir, { recursive: true, force: true });
}

export interface BackupResult {
  ok: true;
  name: string;
  version: string;
  cluster: { server: string; context: string };
  backup: BackupInfo;
}

/** `addon backup NAME [--output DIR]`. */
export async function backupAddon(
  options: KubeOptions & { name: string; output?: string | undefined; timeout?: string | undefined; breakLock?: boolean | undefined },
): Promise<BackupResult> {
  const timeout = parseTimeout(options.timeout ?? "10m");
  keptBackups(); // a bad PK3S_KEEP_BACKUPS is a usage error before anything runs
  const first = await readInstalled(options);
  const { store, target } = first;
  const command = `productive-k3s-core addon backup ${first.record.name}`;
  return withAddonLock(store, first.record.name, { command, breakLock: options.breakLock === true }, async () => {
    const installed = await readInstalled(options);
    const backup = await takeBackup({ installed, tools: resolveTools(), reason: "manual", output: options.output, timeout });
    if (backup === undefined) {
      throw new ValidationError(`${installed.record.name} ${installed.record.version} has no backup phase`, [], {
        where: "spec.backup.script",
        hint: "the installed package declares no spec.backup.script (or was not kept)",
      });
    }
    const { record } = installed;
    return { ok: true, name: record.name, version: record.version, cluster: { server: target.server, context: target.context }, backup };
  });
}

export interface BackupsResult {
  ok: true;
  name: string;
  cluster: { server: string; context: string };
  /** Newest first. */
  backups: BackupInfo[];
}

/** `addon backups NAME`: the kept backups (also after an uninstall). */
export async function listBackups(options: KubeOptions & { name: string }): Promise<BackupsResult> {
  const name = assertValidName("package", options.name, "add-on name");
  const target = await resolveKubeTarget(options);
  const backups = (await readBackups(backupsDir(clusterStore(target), name))).reverse();
  return { ok: true, name, cluster: { server: target.server, context: target.context }, backups };
}
