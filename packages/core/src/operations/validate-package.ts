/**
 * `addon validate --tgz`: a package's verdict, read from the archive stream (package-access.ts). A module of its
 * own so that the command loads only this, not the authoring and install code of validate.ts (which made it
 * load ~25 modules it never ran).
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { NotFoundError, type Problem } from "@productive-k3s/pkg-format/errors";
import type { AddonView } from "../manifest-view.js";
import { validateAddonArchive } from "../package-access.js";
import type { ChartReport } from "./validate.js";

export interface ValidateResult {
  ok: true;
  kind: "addon";
  name: string;
  version: string;
  category?: string | undefined;
  description?: string | undefined;
  digest?: string | undefined;
  /** `dev addon validate`: what the chart checks did. */
  chart?: ChartReport | undefined;
  warnings: Problem[];
}

/** What a manifest says about itself, for the result. */
export function about(addon: AddonView): Pick<ValidateResult, "name" | "version" | "category" | "description"> {
  const m = addon.metadata;
  return { name: m.name, version: m.version, category: m.category, description: m.description };
}

export async function mustExist(path: string, what: string, dir: boolean): Promise<string> {
  const abs = resolve(path);
  const st = await stat(abs).catch(() => undefined);
  if (st === undefined || (dir ? !st.isDirectory() : !st.isFile()))
    throw new NotFoundError(`${what} ${path} not found`, { where: abs, hint: `check the ${dir ? "--source" : "--tgz"} path` });
  return abs;
}

export async function validatePackage(tgz: string, strict: boolean): Promise<ValidateResult> {
  const file = await mustExist(tgz, "package", false);
  const validated = await validateAddonArchive(file, { strict });
  return { ok: true, kind: "addon", ...about(validated.addon), digest: validated.digest, warnings: validated.warnings };
}
