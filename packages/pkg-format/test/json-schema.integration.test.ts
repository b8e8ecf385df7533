import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { jsonSchemaFor, renderSchemas } from "../src/format/json-schema.js";

const pkgDir = join(import.meta.dirname, "..");
const bin = join(pkgDir, "dist", "bin", "export-schemas.js");
const run = promisify(execFile);

describe("JSON Schema export", () => {
  it("committed schemas match the zod schemas", async () => {
    for (const { file, content } of renderSchemas()) {
      expect(await readFile(join(pkgDir, "schemas", file), "utf8"), `${file} is stale: run pnpm schemas`).toBe(content);
    }
  });

  it("describes the input side (what users write)", () => {
    const addon = jsonSchemaFor("addon") as { properties: Record<string, { const?: string }>; required: string[] };
    expect(addon.properties.apiVersion?.const).toBe("addons.productive-k3s.io/v1");
    expect(addon.required).toEqual(["apiVersion", "kind", "metadata", "spec"]);
    const profile = JSON.stringify(jsonSchemaFor("profile"));
    expect(profile).toContain('"shell"');
    expect(profile).toContain("package-default");
  });

  it("export-schemas --check exits 1 naming drifted files, 0 when in sync", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pkgfmt-schemas-"));
    try {
      await cp(join(pkgDir, "schemas"), dir, { recursive: true });
      const ok = await run(process.execPath, [bin, "--check"], { env: { ...process.env, PK3S_SCHEMAS_DIR: dir } });
      expect(ok.stderr).toContain("JSON schemas are up to date");
      await writeFile(join(dir, "profile.schema.json"), "{}\n");
      const err = (await run(process.execPath, [bin, "--check"], { env: { ...process.env, PK3S_SCHEMAS_DIR: dir } }).catch(
        (e: unknown) => e,
      )) as {
        code: number;
        stderr: string;
      };
      expect(err.code).toBe(1);
      expect(err.stderr).toContain(join(dir, "profile.schema.json"));
      expect(err.stderr).not.toContain("addon.schema.json");
      await run(process.execPath, [bin], { env: { ...process.env, PK3S_SCHEMAS_DIR: dir } });
      expect(await readFile(join(dir, "profile.schema.json"), "utf8")).toBe(
        await readFile(join(pkgDir, "schemas", "profile.schema.json"), "utf8"),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
