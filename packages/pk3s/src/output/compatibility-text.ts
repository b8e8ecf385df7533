/** An add-on's `spec.compatibility` as one line for people: "k3s ≥ 1.31, distros: k3s, arch: amd64, arm64, core ≥ 0.1.0". */
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";

export type Compatibility = NonNullable<CatalogEntry["compatibility"]>;

/** `≥ min and ≤ max` (bounds as Core reads them: a partial version covers its patch releases). */
function range(min: string | undefined, max: string | undefined, maxSign: "≤" | "<"): string | undefined {
  const parts = [min === undefined ? undefined : `≥ ${min}`, max === undefined ? undefined : `${maxSign} ${max}`].filter(
    (p): p is string => p !== undefined,
  );
  return parts.length === 0 ? undefined : parts.join(" and ");
}

export function compatibilityText(c: Compatibility): string {
  const k3s = range(c.k3s?.minVersion, c.k3s?.maxVersion, "≤");
  const core = range(c.requires?.core?.minVersion, c.requires?.core?.maxVersionExclusive, "<");
  const parts = [
    k3s === undefined ? undefined : `k3s ${k3s}`,
    c.kubernetes?.distros?.length ? `distros: ${c.kubernetes.distros.join(", ")}` : undefined,
    c.architectures?.length ? `arch: ${c.architectures.join(", ")}` : undefined,
    core === undefined ? undefined : `core ${core}`,
  ].filter((p): p is string => p !== undefined);
  return parts.length === 0 ? "no constraints declared" : parts.join(", ");
}
