/**
 * Field types shared by the addon, profile and catalog schemas.
 */
import semver from "semver";
import { z } from "zod";
import { DNS_LABEL, ENV_NAME, PACKAGE_NAME_MAX, PROFILE_VERSION, SEMVER, SHA256_DIGEST, unsafeRelativePath } from "./patterns.js";

export { DNS_LABEL, ENV_NAME, PROFILE_VERSION, SEMVER };

/** DNS-1123 label of at most `max` characters: safe as a file name, release name and namespace. */
export const dnsLabel = (max: number, what = "a DNS-1123 label") => {
  const error = `expected ${what} (lowercase letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters)`;
  return z.string().max(max, { error, abort: true }).regex(DNS_LABEL, { error });
};

export const packageName = dnsLabel(PACKAGE_NAME_MAX, "a package name: a DNS-1123 label");

export { isStrictSemver } from "./patterns.js";

export const strictSemver = z.string().regex(SEMVER, { error: "expected a semantic version such as 1.2.3" });

/** Partial versions such as "1.31" or "v1.31.2+k3s1" (compared through semver.coerce). */
export const looseVersion = z.string().refine((v) => semver.coerce(v) !== null, { error: "expected a version such as 1.31 or 1.31.2" });

export const semverRange = z
  .string()
  .refine((r) => semver.validRange(r) !== null, { error: "expected a semver range such as ^1.2.0 or >=1.0.0 <2.0.0" });

export { unsafeRelativePath };

/** A path inside the package: relative, '/'-separated, no `..`. */
export const packagePath = z
  .string()
  .min(1)
  .check(
    z.superRefine((p: string, ctx) => {
      const why = unsafeRelativePath(p);
      if (why !== undefined) {
        ctx.addIssue({
          code: "custom",
          message: `expected a relative path inside the package, found ${JSON.stringify(p)} which ${why}`,
          input: p,
        });
      }
    }),
  );

export const scriptRef = z.object({ script: packagePath });

export const dependency = z
  .union([packageName, z.object({ name: packageName, version: semverRange.optional() })], {
    error: 'expected a package name or {name, version: "<semver range>"}',
  })
  .transform((d) => (typeof d === "string" ? { name: d, version: "*" } : { name: d.name, version: d.version ?? "*" }));

export const compatibility = z.object({
  architectures: z.array(z.string().min(1)).optional(),
  k3s: z.object({ minVersion: looseVersion.optional(), maxVersion: looseVersion.optional() }).optional(),
  kubernetes: z.object({ distros: z.array(z.string().min(1)).optional() }).optional(),
  requires: z
    .object({
      core: z.object({ minVersion: looseVersion.optional(), maxVersionExclusive: looseVersion.optional() }).optional(),
    })
    .optional(),
});

export const profileInput = z.object({
  name: z.string().regex(ENV_NAME, { error: "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)" }),
  required: z.boolean().default(false),
  sensitive: z.boolean().default(false),
  source: z.enum(["package-default", "local-override", "either"]).default("either"),
  description: z.string().optional(),
});

export const profileVersion = z
  .string()
  .regex(PROFILE_VERSION, { error: "expected a version: semver such as 1.2.3, or a revision such as 594a7c9" });

export const sha256Digest = z.string().regex(SHA256_DIGEST, { error: "expected sha256:<64 lowercase hex digits>" });
