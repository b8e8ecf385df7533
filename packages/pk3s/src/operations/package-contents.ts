/**
 * `pk3s addon|profile contents NAME` (alias `inspect`): the files inside a
 * package, read from the verified archive stream without extracting it. A
 * local `.tgz` path is listed as it is (no catalog involved).
 */
import { existsSync } from "node:fs";
import type { PackageType } from "../catalog/resolve.js";
import { type FetchFlags, resolveAndFetch } from "./fetch-entry.js";
import { withSession } from "./session.js";

export interface ContentsResult {
  name: string;
  version: string;
  kind: string;
  digest: string;
  /** The catalog it came from, or null for a local file. */
  catalog: string | null;
  files: { path: string; size: number; mode: string }[];
}

async function list(file: string, label: string): Promise<Omit<ContentsResult, "catalog">> {
  const { inspectPackage } = await import("@productive-k3s/pkg-format/inspect");
  const p = await inspectPackage(file, { label });
  return {
    name: p.name,
    version: p.version,
    kind: p.kind,
    digest: p.digest,
    files: p.files.map((f) => ({ path: f.path, size: f.size, mode: f.mode.toString(8).padStart(4, "0") })),
  };
}

export async function packageContents(spec: string, type: PackageType, flags: FetchFlags): Promise<ContentsResult> {
  if (spec.endsWith(".tgz") && existsSync(spec)) return { ...(await list(spec, spec)), catalog: null };
  return withSession({ offline: flags.offline, requireSignatures: flags.requireSignatures }, async (session) => {
    const { entry, fetched } = await resolveAndFetch(session, spec, type, flags);
    return { ...(await list(fetched.file, `${entry.name}-${entry.version}.tgz`)), catalog: entry.catalog };
  });
}
