// Baseline for the cold big-catalog case: read the file and parse it with `yaml` (the same library and
// version pk3s depends on), nothing else.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(fileURLToPath(new URL("../../packages/pk3s/package.json", import.meta.url)));
const { parse } = require("yaml");
const doc = parse(readFileSync(process.argv[2], "utf8"));
if (!Array.isArray(doc?.entries)) process.exit(1);
