/**
 * Catalog indexes: v1 (catalog.productive-k3s.io/v1, kind Catalog) and the
 * published v1alpha1 ProductiveK3SCatalog, both normalised to CatalogEntry.
 */
import { z } from "zod";
import { compatibility, dependency, packageName, profileInput, profileVersion, sha256Digest } from "./schema-common.js";

export const CATALOG_API_VERSION = "catalog.productive-k3s.io/v1";
export const CATALOG_V1ALPHA1_API_VERSION = "catalogs.productive-k3s.io/v1alpha1";

/** An RFC 3339 timestamp with a zone (`2026-11-21T00:00:00Z`). */
const timestamp = z.iso.datetime({ offset: true, error: "expected an RFC 3339 time such as 2026-11-21T00:00:00Z" });

export const CatalogEntrySchema = z.object({
  name: packageName,
  version: profileVersion,
  type: z.enum(["addon", "profile", "stack"]),
  url: z.string().min(1),
  digest: sha256Digest.optional(),
  size: z.number().int().nonnegative().optional(),
  description: z.string().optional(),
  category: z.string().optional(),
  deprecated: z.boolean().optional(),
  dependencies: z.array(dependency).optional(),
  compatibility: compatibility.optional(),
  inputs: z.array(profileInput).optional(),
  engine: z.string().optional(),
  /** Publisher metadata (optional, shown by `show`): who maintains the package, its licence (SPDX), where it lives. */
  maintainers: z.array(z.string().min(1)).optional(),
  license: z.string().min(1).optional(),
  homepage: z.string().min(1).optional(),
  source: z.string().min(1).optional(),
  /** When this version was first published in the catalog. */
  created: timestamp.optional(),
});

/**
 * Another file published with the index and covered by the index's signature through its digest (e.g. a
 * faster companion of the same entries): a reader that verified the index verifies the companion's bytes
 * against `digest` before using them.
 */
export const CatalogCompanionSchema = z.object({
  /** Relative to the index, or absolute. */
  url: z.string().min(1),
  digest: sha256Digest,
  size: z.number().int().nonnegative().optional(),
  /** What the file holds, e.g. `entries+ndjson`. */
  format: z.string().min(1),
});

export const CatalogV1Schema = z.object({
  apiVersion: z.literal(CATALOG_API_VERSION),
  kind: z.literal("Catalog"),
  generated: z.string().optional(),
  /** Signed catalogs: grows with every publication; a reader refuses a lower serial than it has seen (rollback). */
  serial: z.number().int().nonnegative().optional(),
  /** Signed catalogs: after this time the index is refused (a frozen mirror cannot serve it forever). */
  expires: timestamp.optional(),
  companions: z.array(CatalogCompanionSchema).optional(),
  entries: z.array(z.unknown()),
});

/** The whole v1 document with typed entries (used for the JSON Schema export). */
export const CatalogV1DocumentSchema = CatalogV1Schema.extend({ entries: z.array(CatalogEntrySchema) });

export const CatalogV1Alpha1EntrySchema = z.object({
  id: z.string().optional(),
  name: packageName,
  kind: z.string().min(1),
  visibility: z.string().optional(),
  category: z.string().optional(),
  description: z.string().optional(),
  version: profileVersion,
  sourceRepository: z.string().optional(),
  artifact: z.object({
    type: z.literal("tgz"),
    url: z.string().min(1),
    digest: sha256Digest.optional(),
    size: z.number().int().nonnegative().optional(),
  }),
  install: z.object({ requiresLocalOverrides: z.boolean().optional(), inputs: z.array(profileInput).optional() }).optional(),
  tags: z.array(z.string()).optional(),
  deprecated: z.boolean().optional(),
});

export const CatalogV1Alpha1Schema = z.object({
  apiVersion: z.literal(CATALOG_V1ALPHA1_API_VERSION),
  kind: z.literal("ProductiveK3SCatalog"),
  metadata: z.object({ name: z.string().optional(), generatedAt: z.string().optional() }).optional(),
  entries: z.array(z.unknown()),
});

export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;
export type CatalogCompanion = z.infer<typeof CatalogCompanionSchema>;
export type CatalogV1 = z.infer<typeof CatalogV1DocumentSchema>;
export type CatalogV1Alpha1Entry = z.infer<typeof CatalogV1Alpha1EntrySchema>;
