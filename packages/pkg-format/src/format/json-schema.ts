/**
 * JSON Schema export of the manifest and catalog schemas, and of the JSON
 * documents the CLIs read from each other (runtime-documents.ts) (zod is the source
 * of truth; these files are generated and committed under schemas/ for
 * editors and other tools).
 */
import { z } from "zod";
import { CoreAddonList, InfraProfileOutputs, InfraProfileStatus } from "./runtime-documents.js";
import { AddonManifestSchema } from "./schema-addon.js";
import { CatalogV1DocumentSchema } from "./schema-catalog.js";
import { ProfileManifestSchema } from "./schema-profile.js";
import { StackManifestSchema } from "./schema-stack.js";
import { StackLockSchema } from "./schema-stack-lock.js";

export const SCHEMA_BASE_URL = "https://productive-k3s.io/schemas";

const sources = {
  addon: { schema: AddonManifestSchema, title: "Productive K3S add-on manifest (addon.yaml)" },
  profile: { schema: ProfileManifestSchema, title: "Productive K3S profile manifest (profile.yaml)" },
  catalog: { schema: CatalogV1DocumentSchema, title: "Productive K3S catalog index (catalog.productive-k3s.io/v1)" },
  stack: { schema: StackManifestSchema, title: "Productive K3S stack manifest (stack.yaml)" },
  "stack-lock": { schema: StackLockSchema, title: "Productive K3S stack lock file (<stack file>.lock, written by pk3s lock)" },
  "core-addon-list": { schema: CoreAddonList, title: "productive-k3s-core addon list --json" },
  "infra-profile-status": { schema: InfraProfileStatus, title: "productive-k3s-infra profile status --json" },
  "infra-profile-outputs": { schema: InfraProfileOutputs, title: "productive-k3s-infra profile outputs --json" },
} as const;

export type SchemaName = keyof typeof sources;
export const SCHEMA_NAMES = Object.keys(sources) as SchemaName[];

/** JSON Schema (draft 2020-12) describing what a user writes (the input side of the zod schemas). */
export function jsonSchemaFor(name: SchemaName): Record<string, unknown> {
  const { schema, title } = sources[name];
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
  return { $id: `${SCHEMA_BASE_URL}/${name}.schema.json`, title, ...json };
}

/** File name and exact content (stable key order, trailing newline) of every exported schema. */
export function renderSchemas(): { file: string; content: string }[] {
  return SCHEMA_NAMES.map((name) => ({ file: `${name}.schema.json`, content: `${JSON.stringify(jsonSchemaFor(name), null, 2)}\n` }));
}
