/**
 * Issue 11 item 9 through the built binary: `dev addon package` refuses (exit 4, the file named) every
 * source whose package the extractor would reject. The old packer exited 0 and wrote a package every
 * consumer then rejected with exit 6.
 */
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BAD_NAME_CASES, packProblemFor, writeBadNameCase } from "../../../fixtures/bad-names.js";
import { coreBin, fixtures } from "./helpers/harness.js";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "core-names-"));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

describe("dev addon package refuses names the extractor rejects", () => {
  for (const [i, c] of BAD_NAME_CASES.entries()) {
    it(c.name, async () => {
      const src = join(work, `src-${i}`);
      await cp(join(fixtures, "addons", "longhorn"), src, { recursive: true });
      await writeBadNameCase(src, "scripts", c);
      const out = join(work, `out-${i}`);
      const r = spawnSync(process.execPath, ["--", coreBin, "dev", "addon", "package", "--source", src, "--out", out, "--json"], {
        encoding: "utf8",
        timeout: 60_000,
        killSignal: "SIGKILL",
        env: { ...process.env, NO_COLOR: "1", PK3S_STATE_DIR: join(work, "state") },
      });
      expect(r.status, r.stderr).toBe(4);
      const problem = packProblemFor(r.stdout, `scripts/${c.bad}`);
      expect(problem, r.stdout).toBeDefined();
      expect(problem?.file).toBe(join(src, "scripts", c.bad));
      expect(problem?.message).toContain(c.says);
      expect(await readdir(out).catch(() => [])).toEqual([]);
    });
  }
});
