/**
 * The catalog entry fields a package manifest gives (name, version, type, description, category,
 * dependencies, compatibility, inputs, engine): one mapping for `pk3s catalog index` (a folder of
 * `.tgz`) and for packages in OCI registries (their config blob), so both kinds of catalog describe a
 * package alike.
 */
import type { CatalogEntry } from "@productive-k3s/pkg-format/schema-catalog";

/** The manifest fields the index copies; the rest of the manifest stays in the package. */
interface ManifestView {
  metadata: { name: string; version: string; category?: string | undefined; description?: string | undefined };
  spec?: {
    dependencies?: { name: string; version?: string | undefined }[] | undefined;
    compatibility?: CatalogEntry["compatibility"];
    inputs?: CatalogEntry["inputs"];
    engine?: { type?: string | undefined } | undefined;
  };
}

export interface EntryLocation {
  url: string;
  digest: string;
  size: number;
}

/** The entry of a package of `kind` whose validated manifest is `manifest`, found at `at`. */
export function entryFieldsFromManifest(kind: CatalogEntry["type"], manifest: unknown, at: EntryLocation): CatalogEntry {
  const m = manifest as ManifestView;
  const { name, version, category, description } = m.metadata;
  const spec = m.spec ?? {};
  return {
    name,
    version,
    type: kind,
    url: at.url,
    digest: at.digest,
    size: at.size,
    ...(description === undefined ? {} : { description }),
    ...(category === undefined ? {} : { category }),
    ...(kind === "addon" && spec.dependencies !== undefined && spec.dependencies.length > 0
      ? { dependencies: spec.dependencies.map((d) => ({ name: d.name, version: d.version ?? "*" })) }
      : {}),
    ...(kind === "addon" && spec.compatibility !== undefined ? { compatibility: spec.compatibility } : {}),
    ...(kind === "profile" && spec.inputs !== undefined && spec.inputs.length > 0 ? { inputs: spec.inputs } : {}),
    ...(kind === "profile" && spec.engine?.type !== undefined ? { engine: spec.engine.type } : {}),
  } as CatalogEntry;
}
