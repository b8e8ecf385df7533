/**
 * `<stack file>.lock` (kind StackLock), written by `pk3s lock`: every package
 * a stack installs, dependencies included, pinned to one exact version and
 * the digest of its bytes, with where those bytes were found (catalog and
 * URL, or the `source` inside the stack for a bundled add-on). Installing
 * from a lock fetches by digest and installs exactly those bytes.
 *
 * `dependencies` repeats what each package asked for, so that a lock can be
 * checked against its stack (and ordered) without reading any catalog.
 * `signingKeyId` names the key whose signature covered the package, when its
 * catalog is signed.
 */
import { z } from "zod";
import { dependency, packageName, packagePath, profileVersion, sha256Digest, strictSemver } from "./schema-common.js";
import { STACK_API_VERSION } from "./schema-stack.js";

export const STACK_LOCK_KIND = "StackLock";

export const StackLockPackageSchema = z
  .object({
    name: packageName,
    type: z.literal("addon"),
    version: profileVersion,
    /** The catalog the entry came from (absent for a bundled add-on). */
    catalog: z.string().min(1).optional(),
    /** Where the bytes were downloaded from (absent for a bundled add-on). */
    url: z.string().min(1).optional(),
    /** A bundled add-on: its package inside the stack. */
    source: packagePath.optional(),
    digest: sha256Digest,
    size: z.number().int().nonnegative().optional(),
    signingKeyId: z.string().min(1).optional(),
    dependencies: z.array(dependency).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.source === undefined && (p.catalog === undefined || p.url === undefined)) {
      ctx.addIssue({ code: "custom", path: ["url"], message: "expected catalog and url (or source, for a bundled add-on)" });
    }
  });

export const StackLockSchema = z
  .object({
    apiVersion: z.literal(STACK_API_VERSION),
    kind: z.literal(STACK_LOCK_KIND),
    stack: z.object({ name: packageName, version: strictSemver }),
    packages: z.array(StackLockPackageSchema),
  })
  .superRefine((lock, ctx) => {
    const seen = new Map<string, number>();
    lock.packages.forEach((p, i) => {
      const first = seen.get(p.name);
      if (first === undefined) seen.set(p.name, i);
      else
        ctx.addIssue({
          code: "custom",
          path: ["packages", i, "name"],
          message: `expected each package once, found ${JSON.stringify(p.name)} again (first at packages[${first}])`,
        });
    });
  });

export type StackLock = z.infer<typeof StackLockSchema>;
export type StackLockPackage = z.infer<typeof StackLockPackageSchema>;
/** What a lock file holds before parsing (dependencies as written). */
export type StackLockInput = z.input<typeof StackLockSchema>;
