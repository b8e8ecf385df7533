/**
 * The stack a `pk3s stack …` command works on: a local stack file (FILE: a
 * path to a `.yaml`, or a folder holding `stack.yaml`), or a stack from the
 * catalogs (NAME: `[catalog/]name[@range]`), downloaded, verified and
 * extracted like any package. Either way its relative paths (values files,
 * bundled packages) resolve against `dir`, and only a FILE has a lock file
 * beside it.
 */
import { stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { warn } from "@productive-k3s/pkg-format/cli";
import { formatProblem, IntegrityError, NotFoundError } from "@productive-k3s/pkg-format/errors";
import type { StackManifest } from "@productive-k3s/pkg-format/schema-stack";
import type { ResolvedEntry } from "../catalog/loaded-catalog.js";
import { parseSpec } from "../catalog/resolve.js";
import { type FetchFlags, resolveAndFetch } from "../operations/fetch-entry.js";
import type { Session } from "../operations/session.js";

export interface OpenedStack {
  manifest: StackManifest;
  /** Absolute folder the stack's relative paths resolve against. */
  dir: string;
  /** FILE: the stack file (absolute); its lock is `<file>.lock`. NAME: undefined. */
  file: string | undefined;
  /** For messages: the path as given, or `catalog/name@version`. */
  label: string;
  /** NAME: the catalog entry and the verified package's digest. */
  entry?: ResolvedEntry | undefined;
  digest?: string | undefined;
  cleanup(): Promise<void>;
}

/** Whether `ref` names a local stack file (else it is a catalog name). */
export async function stackFileFor(ref: string): Promise<string | undefined> {
  const st = await stat(ref).catch(() => undefined);
  if (st?.isDirectory() === true) return join(ref, "stack.yaml");
  if (st !== undefined || /\.ya?ml$/i.test(ref)) return ref;
  return undefined;
}

async function openFile(file: string): Promise<OpenedStack> {
  const st = await stat(file).catch(() => undefined);
  if (st === undefined) {
    throw new NotFoundError(`stack file ${file} not found`, {
      where: resolve(file),
      hint: "pass a stack.yaml (or the folder holding it), or the name of a stack in a catalog",
    });
  }
  const { loadStackFile } = await import("@productive-k3s/pkg-format/package-validate");
  const loaded = await loadStackFile(file, { label: dirname(file) });
  for (const w of loaded.warnings) warn(formatProblem(w));
  return {
    manifest: loaded.manifest,
    dir: loaded.root,
    file: loaded.manifestFile,
    label: file,
    cleanup: async () => undefined,
  };
}

async function openFromCatalog(ref: string, session: Session, flags: FetchFlags): Promise<OpenedStack> {
  parseSpec(ref);
  const { entry, fetched } = await resolveAndFetch(session, ref, "stack", flags);
  const { openPackage } = await import("@productive-k3s/pkg-format/extract");
  const label = `${entry.catalog}/${entry.name}@${entry.version}`;
  const opened = await openPackage(fetched.file, { label: basename(entry.resolvedUrl) });
  const pkg = opened.pkg;
  // The bytes must be the package the entry names (DESIGN §3): another one is an integrity error.
  if (pkg.kind !== "stack" || pkg.manifest.metadata.name !== entry.name || pkg.manifest.metadata.version !== entry.version) {
    await opened.cleanup();
    const found = `${pkg.kind} ${pkg.manifest.metadata.name}@${pkg.manifest.metadata.version}`;
    throw new IntegrityError("entry-mismatch", `catalog entry stack ${entry.name}@${entry.version} holds ${found}`, {
      where: entry.resolvedUrl,
      hint: "the catalog points at the wrong package; ask its publisher to fix the index",
    });
  }
  for (const w of pkg.warnings) warn(formatProblem(w));
  return {
    manifest: pkg.manifest,
    dir: pkg.root,
    file: undefined,
    label,
    entry,
    digest: fetched.digest,
    cleanup: opened.cleanup,
  };
}

/** Open FILE or NAME; the caller runs `cleanup()` (a catalog stack's extraction). */
export async function openStack(ref: string, session: Session, flags: FetchFlags): Promise<OpenedStack> {
  const file = await stackFileFor(ref);
  return file === undefined ? openFromCatalog(ref, session, flags) : openFile(file);
}

/** The absolute path of a path the stack names (values file, bundled package). */
export function stackPath(stack: OpenedStack, rel: string): string {
  return join(stack.dir, rel);
}
