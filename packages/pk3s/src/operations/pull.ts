/** `pk3s addon|profile pull`: a verified copy of the package in a folder. */
import { copyFile, mkdir, rename, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import type { PackageType } from "../catalog/resolve.js";
import { type FetchFlags, resolveAndFetch, sessionOptions } from "./fetch-entry.js";
import { withSession } from "./session.js";

export interface PullResult {
  name: string;
  version: string;
  catalog: string;
  file: string;
  digest: string;
  size: number;
  fromCache: boolean;
}

export async function pull(rawSpec: string, type: PackageType, outputDir: string | undefined, flags: FetchFlags): Promise<PullResult> {
  return withSession(sessionOptions(flags), async (session) => {
    const { entry, fetched } = await resolveAndFetch(session, rawSpec, type, flags);
    // The file name comes from the catalog entry: its name must be a package name, never a path.
    assertValidName("package", entry.name, "package name");
    const dir = resolve(outputDir ?? ".");
    await mkdir(dir, { recursive: true });
    const target = join(dir, `${entry.name}-${entry.version}.tgz`);
    const temp = `${target}.${process.pid}.tmp`;
    try {
      await copyFile(fetched.file, temp);
      await rename(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    return {
      name: entry.name,
      version: entry.version,
      catalog: entry.catalog,
      file: target,
      digest: fetched.digest,
      size: fetched.size,
      fromCache: fetched.fromCache,
    };
  });
}
