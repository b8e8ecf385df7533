#!/usr/bin/env node
/**
 * Write packages/pkg-format/schemas/*.schema.json from the zod schemas, or
 * with --check exit 1 naming every file that differs from what would be written.
 *
 * Example: node packages/pkg-format/dist/bin/export-schemas.js --check
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderSchemas } from "../format/json-schema.js";

const here = dirname(fileURLToPath(import.meta.url));
const schemasDir = process.env.PK3S_SCHEMAS_DIR ?? join(here, "..", "..", "schemas");

async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  if (argv.some((a) => a !== "--check")) {
    process.stderr.write("usage: export-schemas [--check]\nExample: node packages/pkg-format/dist/bin/export-schemas.js --check\n");
    return 2;
  }
  const drifted: string[] = [];
  for (const { file, content } of renderSchemas()) {
    const path = join(schemasDir, file);
    const current = await readFile(path, "utf8").catch(() => undefined);
    if (current === content) continue;
    if (check) drifted.push(path);
    else {
      await mkdir(schemasDir, { recursive: true });
      await writeFile(path, content);
      process.stderr.write(`wrote ${path}\n`);
    }
  }
  if (drifted.length > 0) {
    process.stderr.write(
      `error: JSON schemas are out of date:\n${drifted.map((d) => `  ${d}`).join("\n")}\n  hint: run \`pnpm schemas\` and commit the result\n`,
    );
    return 1;
  }
  if (check) process.stderr.write("JSON schemas are up to date\n");
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
