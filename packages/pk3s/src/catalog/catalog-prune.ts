/**
 * Publisher side: `pk3s catalog prune <dir> --keep-latest N` deletes all but
 * the N newest versions of each package in a folder, and rewrites the
 * folder's index so it no longer lists them (re-signed, with the next serial,
 * when it was signed). Versions are ordered by semver; opaque versions (git
 * shas) by file modification time, newest first. Prereleases never count
 * among the N unless `includePrerelease`: the N newest releases are kept, and
 * so are the prereleases newer than the newest release (the next release in
 * flight); a package with prereleases only keeps its N newest.
 */
import { existsSync } from "node:fs";
import { readFile, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { V1_API_VERSION } from "@productive-k3s/pkg-format/catalog-read";
import { warn } from "@productive-k3s/pkg-format/cli";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";
import semver from "semver";
import { parse } from "yaml";
import type { SigningKeyInput } from "../trust/signing-key.js";
import { publishIndex } from "./catalog-companions.js";
import { listPackageFiles } from "./catalog-index.js";
import { publicationFields, publisherKey, rfc3339, writeIndex } from "./index-signing.js";

export interface PruneInput extends SigningKeyInput {
  dir: string;
  keepLatest: number;
  dryRun: boolean;
  includePrerelease?: boolean | undefined;
  /** The index to rewrite; default `<dir>/index.yaml` when it exists. */
  index?: string | undefined;
  /** Validity of a rewritten signed index (default 30 days). */
  expiresIn?: string | undefined;
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
  /** The rewritten index (or, in a dry run, the one that would be). */
  index?: { file: string; removedEntries: number; serial?: number | undefined; signed: boolean } | undefined;
}

type Candidate = PrunedFile & { mtime: number };

/** Newest first: semver, then opaque versions by modification time. */
function newestFirst(a: Candidate, b: Candidate): number {
  const av = semver.valid(a.version);
  const bv = semver.valid(b.version);
  if (av !== null && bv !== null) return semver.rcompare(av, bv);
  if (av !== null) return -1;
  if (bv !== null) return 1;
  return b.mtime - a.mtime;
}

/** Which files of one package (sorted newest first) to keep. */
function keptOf(files: Candidate[], keep: number, includePrerelease: boolean): Set<Candidate> {
  const isPrerelease = (f: Candidate): boolean => semver.valid(f.version) !== null && semver.prerelease(f.version) !== null;
  const releases = includePrerelease ? files : files.filter((f) => !isPrerelease(f));
  if (releases.length === 0) return new Set(files.slice(0, keep));
  const kept = new Set(releases.slice(0, keep));
  const newestRelease = releases[0]!;
  for (const f of files) if (isPrerelease(f) && newestFirst(f, newestRelease) < 0) kept.add(f);
  return kept;
}

const identityKey = (kind: string, name: string, version: string): string => `${kind}/${name}@${version}`;

export async function pruneCatalogDir(input: PruneInput): Promise<PruneResult> {
  if (!Number.isInteger(input.keepLatest) || input.keepLatest < 1)
    throw new UsageError(`--keep-latest must be a positive integer, got ${input.keepLatest}`);
  const { readPackageIdentity } = await import("@productive-k3s/pkg-format/package-identity");
  const groups = new Map<string, Candidate[]>();
  for (const file of await listPackageFiles(input.dir)) {
    const { kind, name, version } = await readPackageIdentity(file);
    const key = `${kind}/${name}`;
    groups.set(key, [...(groups.get(key) ?? []), { file, name, version, kind, mtime: (await stat(file)).mtimeMs }]);
  }
  const removed: PrunedFile[] = [];
  const kept: PrunedFile[] = [];
  for (const key of [...groups.keys()].sort()) {
    const files = groups.get(key)!.sort(newestFirst);
    const keep = keptOf(files, input.keepLatest, input.includePrerelease === true);
    for (const f of files) (keep.has(f) ? kept : removed).push({ file: f.file, name: f.name, version: f.version, kind: f.kind });
  }

  const indexFile = resolve(input.index ?? join(input.dir, "index.yaml"));
  const hasIndex = existsSync(indexFile);
  if (input.index !== undefined && !hasIndex) throw new UsageError(`--index ${input.index} does not exist`);
  const signed = hasIndex && existsSync(`${indexFile}.minisig`);
  // A signed index is rewritten signed: the key is needed (and checked) before anything is deleted.
  const key = signed && !input.dryRun ? await publisherKey(input) : undefined;
  if (signed && !input.dryRun && key === undefined) {
    throw new UsageError(`${indexFile} is signed: pruning rewrites it, so it must be signed again`, {
      hint: "pass --sign-key <file> or set PK3S_SIGNING_KEY (nothing was deleted)",
    });
  }
  let index: PruneResult["index"];
  if (hasIndex) {
    const doc = parse(await readFile(indexFile, "utf8")) as Record<string, unknown> & {
      entries?: unknown[];
      serial?: number;
      companions?: unknown;
    };
    const gone = new Set(removed.map((f) => identityKey(f.kind, f.name, f.version)));
    const entries = (Array.isArray(doc.entries) ? doc.entries : []) as { type?: string; name?: string; version?: string }[];
    const remaining = entries.filter((e) => !gone.has(identityKey(String(e.type), String(e.name), String(e.version))));
    const fields = signed || doc.serial !== undefined ? publicationFields(doc.serial, { expiresIn: input.expiresIn }) : undefined;
    index = { file: indexFile, removedEntries: entries.length - remaining.length, serial: fields?.serial, signed };
    // The index first: once it is replaced, nothing points at the files about to be deleted.
    if (!input.dryRun) {
      // A v1 index is published with its companions rewritten to the remaining entries (catalog-companions.ts).
      const { entries: _entries, companions: _companions, ...envelope } = doc;
      if (doc.apiVersion === V1_API_VERSION) {
        const generated = typeof doc.generated === "string" ? doc.generated : rfc3339(new Date());
        await publishIndex(indexFile, { ...envelope, ...fields, generated }, remaining as CatalogEntry[], key);
      } else await writeIndex(indexFile, { ...doc, ...fields, entries: remaining }, key);
    }
  } else if (removed.length > 0) {
    warn(`no index at ${indexFile}: regenerate it with pk3s catalog index ${input.dir}`);
  }
  if (!input.dryRun) {
    for (const f of removed) {
      await unlink(f.file);
      await unlink(`${f.file}.minisig`).catch(() => undefined);
    }
  }
  return { dryRun: input.dryRun, removed, kept, index };
}
