/**
 * Verified download: stream → hash → temp file → verify → rename into the
 * content-addressed cache. The catalog's sha256 is checked before anything
 * uses the bytes; a mismatch exits 6 and leaves nothing behind. An entry
 * without a digest is refused unless `allowUnverified`. The caller's own
 * checks (`accept`: signature, package identity) also run before the commit.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { unlink } from "node:fs/promises";
import { warn } from "@productive-k3s/pkg-format/cli";
import { formatDigest, sha256HexOf } from "@productive-k3s/pkg-format/digest";
import { IntegrityError, NotFoundError } from "@productive-k3s/pkg-format/errors";
import type { ResolvedEntry } from "../catalog/loaded-catalog.js";
import { displayUrl, type OriginAuth } from "../fetch/fetcher.js";
import type { Transport } from "../fetch/transport.js";
import { commitVerified, readVerified, tempPackagePath } from "./package-cache.js";
import { createProgress } from "./progress.js";

/** Default cap for entries that do not state their size: PK3S_MAX_PACKAGE_BYTES, else 2 GiB. */
function defaultCap(): number {
  const raw = process.env.PK3S_MAX_PACKAGE_BYTES;
  const n = raw === undefined || raw === "" ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : 2 * 1024 ** 3;
}

export interface FetchPackageOptions {
  transport: Transport;
  auth?: OriginAuth | undefined;
  allowUnverified?: boolean | undefined;
  progress?: boolean | undefined;
  /** Never touch the network: a package must already be in the cache (or be a local file). */
  offline?: boolean | undefined;
  /**
   * More checks on the bytes, throwing to refuse them: on a download they run on the temp file, after the digest
   * and before the bytes enter the cache; on a cache hit, on the cached file. `fromCache` tells which.
   */
  accept?: ((file: string, fromCache: boolean) => Promise<void>) | undefined;
}

export interface FetchedPackage {
  file: string;
  digest: string;
  size: number;
  fromCache: boolean;
  verified: boolean;
}

export async function fetchPackage(entry: ResolvedEntry, options: FetchPackageOptions): Promise<FetchedPackage> {
  const label = `package ${entry.name}@${entry.version}`;
  const url = new URL(entry.resolvedUrl);
  let expectedHex: string | undefined;
  if (entry.digest !== undefined && entry.digest !== "") {
    expectedHex = sha256HexOf(entry.digest, label);
  } else if (options.allowUnverified !== true) {
    throw new IntegrityError("no-digest", `${label} from catalog "${entry.catalog}" has no digest; refusing to use unverified bytes`, {
      where: displayUrl(url),
      hint: "ask the catalog owner to publish digests (pk3s catalog index does), or pass --allow-unverified if you trust this source",
    });
  } else {
    warn(`${label} from catalog "${entry.catalog}" has no digest: using it UNVERIFIED (--allow-unverified)`);
  }

  if (expectedHex !== undefined) {
    const hit = await readVerified(expectedHex);
    if (hit !== undefined) {
      await options.accept?.(hit.path, true);
      return { file: hit.path, digest: formatDigest(expectedHex), size: hit.size, fromCache: true, verified: true };
    }
  }

  if (options.offline === true && url.protocol !== "file:") {
    throw new NotFoundError(`${label} is not in the package cache and --offline forbids downloading it`, {
      where: displayUrl(url),
      hint: `run once online (e.g. pk3s ${entry.type} pull ${entry.name}@${entry.version}) to cache it`,
    });
  }
  const cap = entry.size ?? defaultCap();
  return options.transport.fetch({ url, label, auth: options.auth, maxBytes: cap, expectedBytes: entry.size }, async (res) => {
    const temp = await tempPackagePath();
    let committed = false;
    try {
      const hash = createHash("sha256");
      const out = createWriteStream(temp, { mode: 0o600, flags: "wx" });
      const progress = await createProgress(
        `${entry.name}@${entry.version}`,
        res.size ?? entry.size,
        options.progress !== false && process.stderr.isTTY === true,
      );
      let bytes = 0;
      try {
        for await (const chunk of res.body) {
          bytes += chunk.byteLength;
          if (bytes > cap) {
            throw new IntegrityError(
              "too-large",
              `${label}: more than ${cap} bytes received from ${displayUrl(res.url)}${entry.size !== undefined ? " (the catalog's size)" : ""}`,
              {
                where: displayUrl(res.url),
              },
            );
          }
          hash.update(chunk);
          progress.advance(chunk.byteLength);
          if (!out.write(chunk)) await once(out, "drain");
        }
      } finally {
        out.end();
        await once(out, "close").catch(() => undefined);
      }
      progress.done();
      const actualHex = hash.digest("hex");
      if (entry.size !== undefined && bytes !== entry.size) {
        throw new IntegrityError("size-mismatch", `${label}: received ${bytes} bytes but the catalog says ${entry.size}`, {
          where: displayUrl(res.url),
          hint: "the download was cut short or the catalog is out of date",
        });
      }
      if (expectedHex !== undefined && actualHex !== expectedHex) {
        throw new IntegrityError(
          "digest-mismatch",
          `${label}: digest mismatch: catalog says sha256:${expectedHex}, downloaded bytes are sha256:${actualHex}`,
          {
            where: displayUrl(res.url),
            hint: "the file was altered or the catalog is stale; nothing was cached. Refresh with `pk3s catalog update` and retry",
          },
        );
      }
      await options.accept?.(temp, false);
      const file = await commitVerified(temp, actualHex);
      committed = true;
      return { file, digest: formatDigest(actualHex), size: bytes, fromCache: false, verified: expectedHex !== undefined };
    } finally {
      if (!committed) await unlink(temp).catch(() => undefined);
    }
  });
}
