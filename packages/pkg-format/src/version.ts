import { readFileSync } from "node:fs";

/** Read `version` from the package.json that sits two levels above a built module (dist/bin/x.js or dist/x.js). */
export function packageVersion(moduleUrl: string, up = "../../package.json"): string {
  const pkg = JSON.parse(readFileSync(new URL(up, moduleUrl), "utf8")) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "0.0.0";
}
