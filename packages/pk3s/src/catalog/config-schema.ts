/**
 * `<configDir>/config.json` as a zod schema: the single source of the types of
 * a configured catalog source, checked when the file is read (a bad file is an
 * error naming the file and the field, exit 4) and before it is written (pk3s
 * never writes a configuration it could not read back).
 *
 * ```json
 * { "catalogs": [{ "name": "acme", "url": "https://…/index.yaml", "priority": 10,
 *                  "auth": { "type": "bearer", "tokenEnv": "ACME_TOKEN" }, "trustedKeys": ["RWQ…"] }],
 *   "removedBuiltins": ["examples"], "requireSignatures": true }
 * ```
 * Built-in catalogs (catalog-config.ts) are not stored: only the names of the
 * ones the user removed, so that adding a catalog never drops them and a
 * built-in whose location moves (a reinstall elsewhere) follows it.
 */
import { isValidName, nameRuleText } from "@productive-k3s/pkg-format/names";
import { z } from "zod";
import { ENV_NAME_RE } from "./config-check.js";

const envName = z.string().regex(ENV_NAME_RE, { error: "expected the NAME of an environment variable (letters, digits and _)" });

const catalogName = z.string().refine((n) => isValidName("catalog", n), { error: `expected a catalog name: ${nameRuleText("catalog")}` });

const SCHEMES = new Set(["http:", "https:", "file:", "oci:"]);

const catalogUrl = z.string().refine(
  (u) => {
    try {
      return SCHEMES.has(new URL(u).protocol);
    } catch {
      return false;
    }
  },
  { error: "expected an absolute http://, https:// or file:// URL of a catalog index, or an oci:// registry repository" },
);

export const CatalogAuthConfig = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("bearer"), tokenEnv: envName }),
  z.strictObject({ type: z.literal("basic"), username: z.string().min(1), passwordEnv: envName }),
]);
export type CatalogAuthConfig = z.infer<typeof CatalogAuthConfig>;

/** A minisign public key's base64 line (`RW` + 54 characters; parsed in full where it is used). */
const publicKeyLine = z.string().regex(/^RW[A-Za-z0-9+/]{54}$/, { error: "expected a minisign public key's base64 line (RW...)" });

export const CatalogSource = z.strictObject({
  name: catalogName,
  /** Absolute URL of the index file (http:, https: or file:), or an OCI registry repository (oci:). */
  url: catalogUrl,
  /** Higher wins when a package name is in several catalogs. */
  priority: z.number().int({ error: "expected an integer" }).default(0),
  auth: CatalogAuthConfig.optional(),
  /**
   * minisign public keys trusted to sign this catalog's index and packages (several during a key rotation).
   * With at least one, everything from the catalog must carry a valid signature (DESIGN §8).
   */
  trustedKeys: z.array(publicKeyLine).optional(),
});
export type CatalogSource = z.output<typeof CatalogSource>;

export const Pk3sConfig = z
  .strictObject({
    catalogs: z.array(CatalogSource).default([]),
    /** Built-in catalogs the user removed (`pk3s catalog remove`): they stay removed. */
    removedBuiltins: z.array(catalogName).default([]),
    /** Refuse every catalog without trusted keys (`pk3s catalog trust require on`; also --require-signatures). */
    requireSignatures: z.boolean().optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.catalogs.forEach((c, i) => {
      const first = seen.get(c.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["catalogs", i, "name"],
          message: `expected a name no other catalog has (catalogs[${first}] has it)`,
        });
      }
      if (first === undefined) seen.set(c.name, i);
    });
  });
export type Pk3sConfig = z.output<typeof Pk3sConfig>;
