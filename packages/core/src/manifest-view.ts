/**
 * The parts of a normalised addon.yaml (pkg-format's AddonManifest) that Core
 * reads. Declared structurally so the lifecycle code states exactly what it
 * depends on; pkg-format's parsed manifest is assignable to it.
 */
import type { RemoteChart } from "@productive-k3s/pkg-format/schema-addon";

export interface AddonDependency {
  name: string;
  /** semver range, "*" when the manifest gave a bare name */
  version: string;
}

export interface AddonView {
  metadata: { name: string; version: string; category?: string | undefined; description?: string | undefined };
  spec: {
    type: string;
    chart?:
      | {
          path: string;
          releaseName?: string | undefined;
          namespace?: string | undefined;
          values?: string[] | undefined;
          /** A source's remote chart, still to be pulled and embedded at `path` (never in a package). */
          remote?: RemoteChart | undefined;
          /** Where an embedded chart came from (provenance, written at pack time). */
          source?: RemoteChart | undefined;
        }
      | undefined;
    install?: { script: string } | undefined;
    configure?: { script: string } | undefined;
    validate?: { script: string } | undefined;
    clean?: { script: string } | undefined;
    backup?: { script: string } | undefined;
    hooks?:
      | {
          preInstall?: string | undefined;
          postInstall?: string | undefined;
          preUninstall?: string | undefined;
          postUninstall?: string | undefined;
        }
      | undefined;
    dependencies?: AddonDependency[] | undefined;
    impact?:
      | { cluster?: boolean | undefined; host?: boolean | undefined; summary?: string | undefined; hostCapabilities?: string[] | undefined }
      | undefined;
    compatibility?:
      | {
          architectures?: string[] | undefined;
          k3s?: { minVersion?: string | undefined; maxVersion?: string | undefined } | undefined;
          kubernetes?: { distros?: string[] | undefined } | undefined;
          requires?: { core?: { minVersion?: string | undefined; maxVersionExclusive?: string | undefined } | undefined } | undefined;
        }
      | undefined;
  };
}

/** Release and namespace an add-on installs into (`--namespace` wins over the chart's, then the add-on name). */
export function releaseOf(addon: AddonView): string | undefined {
  return addon.spec.chart === undefined ? undefined : (addon.spec.chart.releaseName ?? addon.metadata.name);
}

export function namespaceOf(addon: AddonView, override?: string): string {
  return override ?? addon.spec.chart?.namespace ?? addon.metadata.name;
}

/** Where a remote chart comes from, for messages: `oci://…/demo 0.1.0` or `demo 0.1.0 from https://…`. */
export function describeRemote(r: RemoteChart): string {
  return r.ref !== undefined ? `${r.ref} ${r.version}` : `${r.name} ${r.version} from ${r.repo}`;
}
