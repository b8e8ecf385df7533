/**
 * Publisher side: `pk3s catalog prune <dir> --keep-latest N` deletes all but
 * the N newest versions of each package in a folder (semver order; opaque
 * versions such as git shas by file modification time, newest first).
 */
import { stat, unlink } from "node:fs/promises";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { inspectPackage } from "@productive-k3s/pkg-format/inspect";
import semver from "semver";
import { listPackageFiles } from "./catalog-index.js";

export interface PruneInput {
  dir: string;
  keepLatest: number;
  dryRun: boolean;
}

export interface PrunedFile {
  file: string;
  name: string;
  version: string;
  kind: string;
}

export interface PruneResult {
  dryRun: boolean;
  removed: PrunedFile[];
  kept: PrunedFile[];
}

export async function pruneCatalogDir(input: PruneInput): Promise<PruneResult> {
  if (!Number.isInteger(input.keepLatest) || input.keepLatest < 1)
    throw new UsageError(`--keep-latest must be a positive integer, got ${input.keepLatest}`);
  const groups = new Map<string, (PrunedFile & { mtime: number })[]>();
  for (const file of await listPackageFiles(input.dir)) {
    const inspected = await inspectPackage(file);
    const { name, version } = (inspected.manifest as unknown as { metadata: { name: string; version: string } }).metadata;
    const key = `${inspected.kind}/${name}`;
    groups.set(key, [...(groups.get(key) ?? []), { file, name, version, kind: inspected.kind, mtime: (await stat(file)).mtimeMs }]);
  }
  const removed: PrunedFile[] = [];
  const kept: PrunedFile[] = [];
  for (const key of [...groups.keys()].sort()) {
    const files = groups.get(key)!.sort((a, b) => {
      const av = semver.valid(a.version);
      const bv = semver.valid(b.version);
      if (av !== null && bv !== null) return semver.rcompare(av, bv);
      if (av !== null) return -1;
      if (bv !== null) return 1;
      return b.mtime - a.mtime;
    });
    files.forEach((f, i) => {
      const view = { file: f.file, name: f.name, version: f.version, kind: f.kind };
      (i < input.keepLatest ? kept : removed).push(view);
    });
  }
  if (!input.dryRun) for (const f of removed) await unlink(f.file);
  return { dryRun: input.dryRun, removed, kept };
}
