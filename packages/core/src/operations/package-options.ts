/**
 * `addon install --package-options FILE`: the values files, `--set` lines and
 * namespace of each package of a run of several packages, by add-on name
 * (`-f`, `--set` and `-n` are the `--tgz` package's only). A JSON object:
 *
 *   {"longhorn": {"values": ["/abs/longhorn.yaml"], "set": ["replicas=2"], "namespace": "storage"}}
 *
 * pk3s writes it (0600, removed after the run) for a stack, so that `--set`
 * values never reach a command line.
 */
import { NotFoundError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { assertValidName, isValidName } from "@productive-k3s/pkg-format/names";
import { readRegularText } from "@productive-k3s/pkg-format/regular-file";
import { z } from "zod";
import type { UserValues } from "../lifecycle/plan.js";

const PackageOptionsFile = z.record(
  z.string().refine((n) => isValidName("package", n), { error: "expected an add-on name" }),
  z.strictObject({
    values: z.array(z.string().min(1)).optional(),
    set: z.array(z.string()).optional(),
    namespace: z.string().optional(),
  }),
);

export interface PackageOptions {
  values: UserValues;
  namespace?: string | undefined;
}

/** name → that package's options, values files checked to exist and --set lines to be key=value. */
export async function readPackageOptions(
  file: string,
  resolveValues: (files: readonly string[], sets: readonly string[]) => Promise<UserValues>,
): Promise<Map<string, PackageOptions>> {
  const text = await readRegularText(file, "--package-options file").catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new NotFoundError(`--package-options file ${file} not found`, { where: file, hint: "check the --package-options path" });
    throw err;
  });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`, [], {
      where: file,
      hint: 'expected {"<add-on>": {"values": [files], "set": ["key=value"], "namespace": "<ns>"}}',
    });
  }
  const parsed = PackageOptionsFile.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({
      file,
      path: i.path.map(String).join("."),
      message: i.message,
      severity: "error" as const,
    }));
    throw new ValidationError(`${file} is invalid: ${problems.length} problem${problems.length === 1 ? "" : "s"}`, problems, {
      where: file,
    });
  }
  const out = new Map<string, PackageOptions>();
  for (const [name, o] of Object.entries(parsed.data)) {
    if (o.namespace !== undefined) assertValidName("namespace", o.namespace, `namespace of ${name} in ${file}`);
    out.set(name, { values: await resolveValues(o.values ?? [], o.set ?? []), namespace: o.namespace });
  }
  return out;
}
