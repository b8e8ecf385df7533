/**
 * addon.yaml (apiVersion addons.productive-k3s.io/v1, kind Addon): the
 * single source of truth for the add-on manifest; types are inferred.
 */
import { z } from "zod";
import { ADDON_API_VERSION } from "./manifest-identity.js";
import { compatibility, dependency, dnsLabel, packageName, packagePath, SEMVER, scriptRef, strictSemver } from "./schema-common.js";

export { ADDON_API_VERSION };

/** A chart name that becomes a directory (`charts/<name>`): lowercase letters, digits, '-', '_' and '.', no "..". */
const CHART_NAME = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;
const chartName = z
  .string()
  .regex(CHART_NAME, {
    error: "expected a Helm chart name (lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit)",
  })
  .refine((n) => !n.includes(".."), { error: "expected a Helm chart name without '..'" });
const chartVersion = z.string().regex(new RegExp(`^v?${SEMVER.source.slice(1, -1)}$`), {
  error: "expected the chart's exact version, e.g. 1.2.3 (a range is not a pin)",
});
const chartDigest = z.string().regex(/^sha256:[0-9a-f]{64}$/, {
  error: "expected sha256:<64 lowercase hex digits>: the sha256 of the chart .tgz",
});
/** `oci://host[:port]/path/name`, without a tag or digest (the version is spec.chart.version). */
const OCI_CHART_REF = /^oci:\/\/[^/\s@]+(\/[^/\s:@]+)+$/;
const ociRef = z.string().regex(OCI_CHART_REF, {
  error: "expected oci://<registry>/<path>/<chart> without a tag or digest (the version goes in spec.chart.version)",
});
const repoUrl = z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { error: "expected the chart repository's http(s) URL" });

/** The chart a package's own chart came from, written by `dev addon package` when it embedded a remote chart. */
const chartSource = z.object({
  ref: ociRef.optional(),
  repo: repoUrl.optional(),
  name: chartName,
  version: chartVersion,
  digest: chartDigest,
});

/** The chart name of an OCI reference: its last path segment. */
export function ociChartName(ref: string): string {
  return ref.slice(ref.lastIndexOf("/") + 1);
}

/** Where a remote chart is embedded in the package. */
export const embeddedChartPath = (name: string): string => `charts/${name}`;

const chart = z
  .object({
    path: packagePath.optional().describe("The chart directory inside the package (one of path, ref, repo)"),
    ref: ociRef.optional().describe("A chart in an OCI registry, oci://host/path/name, embedded at pack time (one of path, ref, repo)"),
    repo: repoUrl.optional().describe("A chart repository URL (with name), the chart embedded at pack time (one of path, ref, repo)"),
    name: chartName.optional().describe("With repo: the chart's name in the repository; embedded at charts/<name>"),
    version: chartVersion.optional().describe("With ref or repo: the chart's exact version"),
    digest: chartDigest.optional().describe("With ref or repo (required): sha256:<hex> of the chart .tgz"),
    source: chartSource.optional().describe("Written by `dev addon package` beside path: where an embedded chart came from"),
    releaseName: dnsLabel(53, "a Helm release name: a DNS-1123 label").optional(),
    namespace: dnsLabel(63, "a namespace: a DNS-1123 label").optional(),
    values: z.array(packagePath).optional(),
  })
  .superRefine((c, ctx) => {
    const at = (field: string, message: string): void => ctx.addIssue({ code: "custom", path: [field], message });
    const given = (["path", "ref", "repo"] as const).filter((k) => c[k] !== undefined);
    if (given.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "expected path (a chart inside the package), ref (oci://…) or repo (https://… with name), found none of them",
      });
      return;
    }
    if (given.length > 1) {
      at(given[1] as string, `expected one of path, ref and repo, found ${given.join(" and ")}`);
      return;
    }
    if (c.path !== undefined) {
      for (const k of ["name", "version", "digest"] as const) {
        if (c[k] !== undefined) at(k, `${k} is for a remote chart (ref or repo); a chart inside the package is named by path alone`);
      }
      return;
    }
    if (c.source !== undefined)
      at("source", "source is written by `dev addon package` beside path; a remote chart is named by ref or repo");
    if (c.ref !== undefined && c.name !== undefined) at("name", "the chart name of an oci:// ref is its last path segment; remove name");
    if (c.repo !== undefined && c.name === undefined) at("name", "required with repo: the chart's name in the repository");
    if (c.version === undefined) at("version", "required for a remote chart: its exact version, e.g. 1.2.3");
    if (c.digest === undefined) {
      at(
        "digest",
        "required for a remote chart: sha256:<hex> of the chart .tgz (the digest of its entry in the repository's index.yaml, " +
          "or `sha256sum <chart>-<version>.tgz`), so a package always embeds the bytes its author checked",
      );
    }
  });

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
      chart: chart.optional(),
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
      chart: m.spec.chart === undefined ? undefined : normaliseChart(m.spec.chart, m.metadata.name),
    },
  }));

/** A chart in a chart repository or OCI registry, pinned by version and digest. */
export interface RemoteChart {
  /** `oci://host/path/name` (OCI registry), or undefined for a chart repository. */
  ref?: string | undefined;
  /** The chart repository's URL, or undefined for an OCI reference. */
  repo?: string | undefined;
  name: string;
  version: string;
  /** `sha256:<hex>` of the chart .tgz. */
  digest: string;
}

/**
 * spec.chart as Core reads it: always a `path` inside the package. A remote chart (ref or repo) is given
 * the path it is embedded at (`charts/<name>`) and kept in `remote`, for `dev addon package` to pull; a
 * package (never a source) must not have one. `source` is the provenance of an embedded chart.
 */
function normaliseChart(c: z.infer<typeof chart>, addonName: string) {
  const base = { releaseName: c.releaseName ?? addonName, namespace: c.namespace ?? addonName, values: c.values ?? [] };
  if (c.path !== undefined) return { path: c.path, ...base, source: c.source as RemoteChart | undefined, remote: undefined };
  const name = c.ref !== undefined ? ociChartName(c.ref) : (c.name as string);
  const remote: RemoteChart = {
    ...(c.ref !== undefined ? { ref: c.ref } : { repo: c.repo }),
    name,
    version: c.version as string,
    digest: c.digest as string,
  };
  return { path: embeddedChartPath(name), ...base, source: undefined, remote };
}

export type AddonManifest = z.infer<typeof AddonManifestSchema>;
export type AddonManifestInput = z.input<typeof AddonManifestSchema>;
export type AddonDependency = z.infer<typeof dependency>;
