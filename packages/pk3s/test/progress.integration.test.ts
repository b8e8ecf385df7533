/**
 * Download progress: a bar on a terminal (driven through a real pseudo-terminal
 * with util-linux `script`), nothing at all when stderr is not a TTY.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { packageBytes, pkg, writeLocalCatalog } from "./helpers/catalogs.js";
import { PK3S_BIN, type Sandbox, sandbox } from "./helpers/cli.js";

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

const hasScript = existsSync("/usr/bin/script");
const big = pkg("big", "1.0.0", { bytes: packageBytes("big", "1.0.0", "addon", 3 * 1024 * 1024) });

describe("download progress", () => {
  it.runIf(hasScript)("draws a bar with percentage and MiB on a TTY", async () => {
    const dir = writeLocalCatalog(join(sb.root, "cat"), [big]);
    expect((await sb.run(["catalog", "add", "cat", dir])).code).toBe(0);
    const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
    const command = [process.execPath, "--", PK3S_BIN, "addon", "pull", "big", "--output", join(sb.root, "out")].map(quote).join(" ");
    const transcript = execFileSync("script", ["-qec", command, "/dev/null"], {
      env: { ...process.env, ...sb.env, NO_COLOR: "1" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(transcript).toMatch(/big@1\.0\.0 \[#+\] 100% 3\.0\/3\.0 MiB/);
    expect(existsSync(join(sb.root, "out", "big-1.0.0.tgz"))).toBe(true);
  });

  it("draws nothing when stderr is not a TTY", async () => {
    const dir = writeLocalCatalog(join(sb.root, "cat"), [big]);
    await sb.run(["catalog", "add", "cat", dir]);
    const r = await sb.run(["addon", "pull", "big", "--output", join(sb.root, "out")]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/MiB|\[#|%/);
    expect(r.stderr).not.toContain("\u001b[");
  });
});
