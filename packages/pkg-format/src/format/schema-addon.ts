/**
 * addon.yaml (apiVersion addons.productive-k3s.io/v1, kind Addon): the
 * single source of truth for the add-on manifest; types are inferred.
 */
import { z } from "zod";
import { compatibility, dependency, dnsLabel, packageName, packagePath, scriptRef, strictSemver } from "./schema-common.js";

export const ADDON_API_VERSION = "addons.productive-k3s.io/v1";

const hook = z
  .union([packagePath, scriptRef], { error: "expected a script path or {script: <path>}" })
  .transform((h) => (typeof h === "string" ? h : h.script));

export const AddonManifestSchema = z
  .object({
    apiVersion: z.literal(ADDON_API_VERSION),
    kind: z.literal("Addon"),
    metadata: z.object({
      name: packageName,
      version: strictSemver,
      category: z.string().min(1),
      description: z.string().optional(),
      sourceRevision: z.string().optional(),
    }),
    spec: z.object({
      type: z.enum(["helm", "shell"]),
      chart: z
        .object({
          path: packagePath,
          releaseName: dnsLabel(53, "a Helm release name: a DNS-1123 label").optional(),
          namespace: dnsLabel(63, "a namespace: a DNS-1123 label").optional(),
          values: z.array(packagePath).optional(),
        })
        .optional(),
      install: scriptRef.optional(),
      configure: scriptRef.optional(),
      validate: scriptRef.optional(),
      clean: scriptRef.optional(),
      backup: scriptRef.optional(),
      hooks: z
        .object({
          preInstall: hook.optional(),
          postInstall: hook.optional(),
          preUninstall: hook.optional(),
          postUninstall: hook.optional(),
        })
        .optional(),
      dependencies: z.array(dependency).optional(),
      compatibility: compatibility.optional(),
      impact: z
        .object({
          cluster: z.boolean().optional(),
          host: z.boolean().optional(),
          summary: z.string().optional(),
          hostCapabilities: z.array(z.string().min(1)).optional(),
        })
        .optional(),
      productiveK3s: z.object({ exposure: z.record(z.string(), z.unknown()).optional() }).optional(),
    }),
  })
  .superRefine(
    (m, ctx) => {
      // Runs even when other fields are invalid (`when`), so `m` may be malformed: read it defensively.
      const spec = (m as { spec?: unknown }).spec as { chart?: unknown; install?: unknown } | undefined;
      if (spec !== null && typeof spec === "object" && spec.chart === undefined && spec.install === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["spec"],
          message: "expected spec.chart or spec.install.script (a package must install something), found neither",
        });
      }
    },
    { when: () => true },
  )
  .transform((m) => ({
    ...m,
    spec: {
      ...m.spec,
      chart:
        m.spec.chart === undefined
          ? undefined
          : {
              ...m.spec.chart,
              releaseName: m.spec.chart.releaseName ?? m.metadata.name,
              namespace: m.spec.chart.namespace ?? m.metadata.name,
              values: m.spec.chart.values ?? [],
            },
    },
  }));

export type AddonManifest = z.infer<typeof AddonManifestSchema>;
export type AddonManifestInput = z.input<typeof AddonManifestSchema>;
export type AddonDependency = z.infer<typeof dependency>;
