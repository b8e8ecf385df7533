/**
 * The fast configuration check (config-check.ts) never accepts what the zod schema rejects, returns exactly what
 * the schema returns, and does accept the configurations pk3s writes (else every command would load zod).
 */
import { describe, expect, it } from "vitest";
import { plainConfig } from "../src/catalog/config-check.js";
import { Pk3sConfig } from "../src/catalog/config-schema.js";

const good = { name: "acme", url: "https://example.test/index.yaml" };

const ACCEPTED: unknown[] = [
  {},
  { catalogs: [] },
  { catalogs: [good] },
  {
    catalogs: [
      { ...good, priority: 10 },
      { name: "local", url: "file:///srv/catalog/index.yaml", priority: -3 },
    ],
  },
  { catalogs: [{ ...good, auth: { type: "bearer", tokenEnv: "ACME_TOKEN" } }] },
  { catalogs: [{ ...good, auth: { type: "basic", username: "me", passwordEnv: "_PW1" } }], removedBuiltins: ["examples"] },
  { removedBuiltins: ["examples", "local"] },
];

const LEFT_TO_THE_SCHEMA: unknown[] = [
  null,
  [],
  "catalogs",
  { extra: 1 },
  { catalogs: {} },
  { catalogs: [good, good] },
  { catalogs: [{ ...good, name: "Bad_Name" }] },
  { catalogs: [{ ...good, name: 7 }] },
  { catalogs: [{ ...good, url: "ftp://example.test/index.yaml" }] },
  { catalogs: [{ ...good, url: "index.yaml" }] },
  { catalogs: [{ ...good, priority: 1.5 }] },
  { catalogs: [{ ...good, priority: "1" }] },
  { catalogs: [{ ...good, priority: 2 ** 60 }] },
  { catalogs: [{ ...good, extra: true }] },
  { catalogs: [{ ...good, auth: { type: "bearer", tokenEnv: "1TOKEN" } }] },
  { catalogs: [{ ...good, auth: { type: "bearer", tokenEnv: "T", extra: 1 } }] },
  { catalogs: [{ ...good, auth: { type: "basic", username: "", passwordEnv: "PW" } }] },
  { catalogs: [{ ...good, auth: { type: "token", tokenEnv: "T" } }] },
  { catalogs: [{ ...good, auth: null }] },
  { removedBuiltins: "examples" },
  { removedBuiltins: ["Not A Name"] },
];

describe("the fast configuration check", () => {
  for (const raw of ACCEPTED) {
    it(`accepts ${JSON.stringify(raw)} and returns what the schema returns`, () => {
      const plain = plainConfig(raw);
      expect(plain).toBeDefined();
      expect(JSON.stringify(plain)).toBe(JSON.stringify(Pk3sConfig.parse(raw)));
    });
  }
  for (const raw of LEFT_TO_THE_SCHEMA) {
    it(`leaves ${JSON.stringify(raw)} to the schema`, () => {
      expect(plainConfig(raw)).toBeUndefined();
    });
  }
  it("leaves to the schema nothing the schema accepts that a write produces", () => {
    // What saveConfig is given after `catalog add`: the schema's own output, read back as JSON.
    for (const raw of ACCEPTED) {
      const written = JSON.parse(JSON.stringify(Pk3sConfig.parse(raw)));
      expect(plainConfig(written)).toEqual(Pk3sConfig.parse(raw));
    }
  });
  it("never accepts what the schema rejects", () => {
    for (const raw of LEFT_TO_THE_SCHEMA) {
      const zod = Pk3sConfig.safeParse(raw);
      if (!zod.success) expect(plainConfig(raw)).toBeUndefined();
    }
  });
});
