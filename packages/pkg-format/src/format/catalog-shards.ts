/**
 * The sharded companion of a v1 catalog index, for readers that need a few
 * names and not the whole catalog (the way Cargo's sparse index fetches only
 * the crates a resolution reaches): a root (`root.json`, in the index's
 * generation folder `index.d/<generation>/`, docs/formats.md) lists the
 * shards, each an NDJSON file (`catalog-ndjson.ts`) beside it holding every
 * entry whose name hashes to it. `index.yaml` pins the root's digest in its
 * `companions`; the root pins every shard's.
 *
 *   {"apiVersion":"catalog.productive-k3s.io/v1","kind":"CatalogShards","generated":"…",
 *    "prefix":3,"entries":100000,"shards":{"000":{"digest":"sha256:…","size":4321,"entries":25},…}}
 *
 * A name's shard is the first `prefix` hex digits of sha256(name): shards of
 * even size whatever the names look like. The publisher picks the prefix so a
 * shard holds about 16-64 entries on average (1 for up to 1,024 entries, 2 up
 * to 16,384, 3 up to 262,144, then 4); a reader only follows it.
 */
import { createHash } from "node:crypto";
import { type Problem, ValidationError } from "../errors.js";
import { V1_API_VERSION } from "./catalog-read.js";
import { SHA256_DIGEST } from "./patterns.js";
import { problemCountMessage } from "./problem-list.js";

export const SHARDS_KIND = "CatalogShards";
/** `format` of the shard root in an index's `companions`. */
export const SHARDS_COMPANION_FORMAT = "entries-shards+json";
const MAX_PREFIX = 4;

export interface ShardInfo {
  digest: string;
  size: number;
  entries: number;
}

export interface ShardRoot {
  apiVersion: typeof V1_API_VERSION;
  kind: typeof SHARDS_KIND;
  generated?: string | undefined;
  prefix: number;
  entries: number;
  shards: Record<string, ShardInfo>;
}

/** The shard of `name` for a prefix of `prefix` hex digits. */
export function shardKey(name: string, prefix: number): string {
  return createHash("sha256").update(name, "utf8").digest("hex").slice(0, prefix);
}

/** The prefix a publisher uses for `entries` entries: about 16-64 entries per shard. */
export function shardPrefixFor(entries: number): number {
  let prefix = 1;
  while (prefix < MAX_PREFIX && entries / 16 ** prefix > 64) prefix++;
  return prefix;
}

/** A shard's file, relative to the root. */
export function shardFileName(key: string): string {
  return `${key}.ndjson`;
}

function rootInvalid(file: string, path: string, message: string): ValidationError {
  const problems: Problem[] = [{ file, line: 1, column: 1, path, message, severity: "error" }];
  return new ValidationError(problemCountMessage(file, problems), problems, {
    where: file,
    hint: "the shard root does not match what pk3s catalog index writes; the publisher must regenerate it",
  });
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** A shard root's text, checked field by field. */
export function parseShardRoot(text: string, file: string): ShardRoot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw rootInvalid(file, "", "expected a JSON object");
  }
  const r = value as Partial<ShardRoot> | null;
  if (r === null || typeof r !== "object" || Array.isArray(r)) throw rootInvalid(file, "", "expected a JSON object");
  if (r.apiVersion !== V1_API_VERSION) throw rootInvalid(file, "apiVersion", `expected ${JSON.stringify(V1_API_VERSION)}`);
  if (r.kind !== SHARDS_KIND) throw rootInvalid(file, "kind", `expected ${JSON.stringify(SHARDS_KIND)}`);
  if (r.generated !== undefined && typeof r.generated !== "string") throw rootInvalid(file, "generated", "expected a string");
  if (!isCount(r.prefix) || r.prefix < 1 || r.prefix > MAX_PREFIX) throw rootInvalid(file, "prefix", `expected 1 to ${MAX_PREFIX}`);
  if (!isCount(r.entries)) throw rootInvalid(file, "entries", "expected a count");
  const shards = r.shards;
  if (shards === null || typeof shards !== "object" || Array.isArray(shards)) throw rootInvalid(file, "shards", "expected a mapping");
  const keyPattern = new RegExp(`^[0-9a-f]{${r.prefix}}$`);
  let total = 0;
  for (const [key, info] of Object.entries(shards)) {
    const at = `shards.${key}`;
    if (!keyPattern.test(key)) throw rootInvalid(file, at, `expected a key of ${r.prefix} lowercase hex digits`);
    const s = info as Partial<ShardInfo> | null;
    if (s === null || typeof s !== "object") throw rootInvalid(file, at, "expected {digest, size, entries}");
    if (typeof s.digest !== "string" || !SHA256_DIGEST.test(s.digest))
      throw rootInvalid(file, `${at}.digest`, "expected sha256:<64 lowercase hex digits>");
    if (!isCount(s.size)) throw rootInvalid(file, `${at}.size`, "expected a size in bytes");
    if (!isCount(s.entries)) throw rootInvalid(file, `${at}.entries`, "expected a count");
    total += s.entries;
  }
  if (total !== r.entries) throw rootInvalid(file, "entries", `expected the sum of the shards' entries (${total}), found ${r.entries}`);
  return r as ShardRoot;
}
