/**
 * Local (file) catalogs are read in slices, never held whole (issue 19 item 8: every command within 200 MiB
 * whatever the catalog size): a cold search of a 100,000-entry YAML-only index stays well under that, and a
 * signed local index is still verified over exactly the bytes parsed, prehashed or legacy, with a tampered
 * one refused (exit 6) and nothing of it cached.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatPublicKeyFile, generateSecretKey, publicKeyOf, signContent } from "@productive-k3s/pkg-format/minisign";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { catalogYaml, pkg } from "./helpers/catalogs.js";
import { type Sandbox, sandbox } from "./helpers/cli.js";

let sb: Sandbox;
beforeEach(() => {
  sb = sandbox();
});
afterEach(() => sb.cleanup());

const ZERO = `sha256:${"0".repeat(64)}`;

/** A v1 index of `count` entries without companions (~290 bytes an entry), as the bench's big catalog. */
function bigIndex(count: number): string {
  const parts = [
    "apiVersion: catalog.productive-k3s.io/v1\nkind: Catalog\ngenerated: 2026-11-30T00:00:00Z\nentries:\n",
    `  - name: longhorn\n    version: 1.0.0\n    type: addon\n    url: packages/longhorn-1.0.0.tgz\n    digest: ${ZERO}\n    size: 1000\n    description: Distributed block storage\n    category: storage\n`,
  ];
  for (let i = 0; i < count - 1; i++) {
    parts.push(
      `  - name: pkg-${i}\n    version: ${i % 7}.${i % 13}.${i % 5}\n    type: ${i % 3 === 0 ? "profile" : "addon"}\n    url: packages/pkg-${i}.tgz\n    digest: ${ZERO}\n    size: ${1000 + i}\n    description: generated package number ${i} for the large-catalog test\n    category: bench\n`,
    );
  }
  return parts.join("");
}

/** The parsed-entries files of every cached catalog. */
function cachedEntries(): string[] {
  const root = join(sb.env.PK3S_CACHE_DIR!, "catalogs");
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => /(^|\/)(entries|lookup)-/.test(f));
}

describe("a local catalog read in slices", () => {
  it("a cold search of a 100,000-entry YAML-only index peaks under 175 MiB (200 MiB on Node 24+)", { timeout: 60_000 }, async () => {
    const index = join(sb.root, "index.yaml");
    writeFileSync(index, bigIndex(100_000));
    expect((await sb.run(["catalog", "add", "--offline", "big", index])).code).toBe(0);
    // The peak RSS of the command's own process, reported by a preload as it exits.
    const preload = join(sb.root, "max-rss.cjs");
    const report = join(sb.root, "max-rss.txt");
    writeFileSync(
      preload,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, String(process.resourceUsage().maxRSS)));\n`,
    );
    const r = await sb.run(["search", "longhorn"], { NODE_OPTIONS: `--require ${preload}` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Distributed block storage");
    const maxRssMiB = Number(readFileSync(report, "utf8")) / 1024;
    // Held whole (28 MB) and decoded in 1 MiB strings, this peaked at 224-231 MiB on Node 20 and 306-333 MiB on
    // Node 24 (the build of 69de04b, measured 2026-11-30); read in slices, 136-144 MiB on Node 20 and 22, 168-176 MiB
    // on Node 24, whose V8 keeps a larger heap for the same work (docs/performance.md). The bound, with headroom
    // either way: 175 MiB where it was set (Node 20, 22), issue 19's 200 MiB on Node 24 and later.
    const bound = Number(process.versions.node.split(".")[0]) >= 24 ? 200 : 175;
    expect(maxRssMiB, `peak RSS ${Math.round(maxRssMiB)} MiB`).toBeLessThan(bound);
    // Every entry was read and cached: a warm search of another name finds it.
    expect((await sb.run(["search", "pkg-99998"])).stdout).toContain("pkg-99998");
  });
});

describe("a signed local catalog", () => {
  const key = generateSecretKey();
  const packages = [pkg("app", "1.0.0"), pkg("db", "1.0.0")];

  /** index.yaml with serial and expires, and its `.minisig` (legacy: not prehashed). Returns the index path. */
  async function publish(options: { legacy?: boolean } = {}): Promise<string> {
    const doc = parse(catalogYaml(packages)) as Record<string, unknown>;
    doc.serial = 1;
    doc.expires = new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
    const text = stringify(doc);
    const index = join(sb.root, "repo", "index.yaml");
    rmSync(join(sb.root, "repo"), { recursive: true, force: true });
    mkdirSync(join(sb.root, "repo"), { recursive: true });
    writeFileSync(index, text);
    writeFileSync(`${index}.minisig`, await signContent({ bytes: Buffer.from(text) }, key, { legacy: options.legacy === true }));
    return index;
  }

  async function addTrusted(index: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const pub = join(sb.root, "key.pub");
    writeFileSync(pub, formatPublicKeyFile(publicKeyOf(key)));
    return sb.run(["catalog", "add", "acme", index, "--trust-key", pub]);
  }

  for (const legacy of [false, true]) {
    it(`is verified before it is read (${legacy ? "legacy" : "prehashed"} signature); a tampered index is exit 6, nothing cached`, async () => {
      const index = await publish({ legacy });
      const add = await addTrusted(index);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toContain("2 entries");
      const found = await sb.run(["search", "db"]);
      expect(found.code, found.stderr).toBe(0);
      expect(found.stdout).toContain("db test package");

      // Same length, other bytes: only the signature can tell.
      writeFileSync(index, readFileSync(index, "utf8").replace("db test package", "dB test package"));
      rmSync(join(sb.env.PK3S_CACHE_DIR!, "catalogs"), { recursive: true, force: true });
      const refused = await sb.run(["search", "db"]);
      expect(refused.code).toBe(6);
      expect(refused.stderr).toContain(`${index}.minisig`);
      expect(refused.stderr).toContain("does not match the signed content");
      expect(cachedEntries()).toEqual([]);
    });
  }
});
