/**
 * stack.yaml (apiVersion addons.productive-k3s.io/v1, kind Stack): a
 * declarative group of add-ons, as the published Productive K3S stacks write
 * it (`spec.resolution.mode`, `spec.runtime.compatibility`, `spec.addons` as
 * names or `{name, version, source}`), plus our per-add-on extension: `values`
 * files (relative to the stack's folder), Helm-style `set` lines and a
 * `namespace`. The single source of truth for the stack manifest; types are
 * inferred.
 *
 * Published rules kept: at least one add-on, each named once; `source` is a
 * `.tgz` under `addons/` inside the stack (mode `bundled` needs at least one);
 * the compatible distros are listed once each.
 */
import { z } from "zod";
import { ADDON_API_VERSION } from "./schema-addon.js";
import { dnsLabel, looseVersion, packageName, packagePath, semverRange, strictSemver } from "./schema-common.js";

export const STACK_API_VERSION = ADDON_API_VERSION;

/** Where a bundled add-on's package may sit inside a stack (the published rule). */
export const BUNDLED_SOURCE = /^addons\/[^/\\\0]+\.tgz$/;

/** An exact version (semver or an opaque revision such as 594a7c9) or a semver range. */
const addonVersion = z.union([semverRange, z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+-]*$/)], {
  error: "expected a version (1.2.3), a semver range (^1.2) or a revision (594a7c9)",
});

const setLine = z.string().regex(/^[^=\s][^=]*=/, { error: "expected key=value (Helm --set syntax)" });

const addonEntry = z
  .union(
    [
      packageName,
      z.object({
        name: packageName,
        version: addonVersion.optional(),
        source: z
          .string()
          .regex(BUNDLED_SOURCE, { error: "expected a .tgz under addons/ inside the stack, e.g. addons/longhorn-1.0.0.tgz" })
          .optional(),
        values: z.array(packagePath).optional(),
        set: z.array(setLine).optional(),
        namespace: dnsLabel(63, "a namespace: a DNS-1123 label").optional(),
      }),
    ],
    { error: "expected an add-on name or {name, version, source, values, set, namespace}" },
  )
  .transform((a) =>
    typeof a === "string"
      ? { name: a, values: [] as string[], set: [] as string[] }
      : {
          name: a.name,
          ...(a.version === undefined ? {} : { version: a.version }),
          ...(a.source === undefined ? {} : { source: a.source }),
          values: a.values ?? [],
          set: a.set ?? [],
          ...(a.namespace === undefined ? {} : { namespace: a.namespace }),
        },
  );

export const StackManifestSchema = z
  .object({
    apiVersion: z.literal(STACK_API_VERSION),
    kind: z.literal("Stack"),
    metadata: z.object({
      name: packageName,
      version: strictSemver,
      category: z.string().min(1).optional(),
      description: z.string().optional(),
    }),
    spec: z.object({
      resolution: z.object({ mode: z.enum(["catalog", "bundled"]).optional() }).optional(),
      runtime: z
        .object({
          compatibility: z
            .object({
              kubernetes: z.object({ minVersion: looseVersion.optional(), distros: z.array(z.string().min(1)).optional() }).optional(),
              core: z.object({ minVersion: looseVersion.optional() }).optional(),
            })
            .optional(),
        })
        .optional(),
      addons: z.array(addonEntry).min(1, { error: "expected at least one add-on" }),
    }),
  })
  .superRefine(
    (m, ctx) => {
      // Runs even when other fields are invalid (`when`), so `m` may be malformed: read it defensively.
      const spec = (m as { spec?: unknown }).spec as
        | { addons?: unknown; resolution?: { mode?: unknown }; runtime?: { compatibility?: { kubernetes?: { distros?: unknown } } } }
        | undefined;
      const addons = Array.isArray(spec?.addons) ? (spec.addons as unknown[]) : [];
      const nameOf = (a: unknown): unknown => (typeof a === "string" ? a : (a as { name?: unknown } | null)?.name);
      const first = new Map<unknown, number>();
      addons.forEach((a, i) => {
        const name = nameOf(a);
        if (typeof name !== "string") return;
        const at = first.get(name);
        if (at === undefined) first.set(name, i);
        else
          ctx.addIssue({
            code: "custom",
            path: ["spec", "addons", i],
            message: `expected each add-on once, found ${JSON.stringify(name)} again (first at spec.addons[${at}])`,
          });
      });
      const bundled = addons.some((a) => typeof a === "object" && a !== null && (a as { source?: unknown }).source !== undefined);
      if (spec?.resolution?.mode === "bundled" && !bundled) {
        ctx.addIssue({
          code: "custom",
          path: ["spec", "resolution", "mode"],
          message: "resolution mode bundled needs at least one add-on with a source (a .tgz under addons/ inside the stack)",
        });
      }
      const distros = spec?.runtime?.compatibility?.kubernetes?.distros;
      if (Array.isArray(distros)) {
        distros.forEach((d, i) => {
          if (distros.indexOf(d) !== i)
            ctx.addIssue({
              code: "custom",
              path: ["spec", "runtime", "compatibility", "kubernetes", "distros", i],
              message: `expected each distro once, found ${JSON.stringify(d)} again`,
            });
        });
      }
    },
    { when: () => true },
  );

export type StackManifest = z.infer<typeof StackManifestSchema>;
export type StackManifestInput = z.input<typeof StackManifestSchema>;
export type StackAddon = StackManifest["spec"]["addons"][number];
