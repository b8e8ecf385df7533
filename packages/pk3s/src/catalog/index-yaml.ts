/**
 * A catalog index document as YAML, for `catalog index`, `catalog prune` and `catalog index --from-registry`:
 * pkg-format's block writer (the `yaml` library's layout, without loading the library: yaml-write.ts says why),
 * or, for a document outside its data model, the library itself. No anchors or aliases either way: entries
 * sharing a value (the same maintainers) are each written out in full.
 */
import { blockYaml } from "@productive-k3s/pkg-format/yaml-write";

export async function indexYaml(doc: Record<string, unknown>): Promise<string> {
  const text = blockYaml(doc);
  if (text !== undefined) return text;
  const { stringifyYamlLibrary } = await import("@productive-k3s/pkg-format/yaml-library");
  return stringifyYamlLibrary(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}
