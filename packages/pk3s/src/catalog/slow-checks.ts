/** The slow checks of a catalog read (zod and the yaml library), loaded only for an entry that needs them. */
import type { SlowCatalogChecks } from "@productive-k3s/pkg-format/catalog-read";

export async function loadSlowChecks(): Promise<SlowCatalogChecks> {
  return (await import("@productive-k3s/pkg-format/catalog-parse")).slowCatalogChecks;
}
