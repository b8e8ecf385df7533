/**
 * The trust policy of one catalog with trusted keys (DESIGN §8). A fresh
 * index is admitted only when its `.minisig` verifies with a trusted key, it
 * carries `serial` and `expires`, it has not expired, its serial is not lower
 * than the highest this machine has accepted for the catalog (rollback), and
 * an equal serial comes with the same bytes (a mix or freeze of two indexes
 * under one serial). What was admitted is recorded with the cached index
 * (`TrustRecord`), so cache hits are checked again without the network:
 * still a trusted key, still not expired, not below the recorded serial.
 */
import { IntegrityError } from "@productive-k3s/pkg-format/errors";
import type { MinisignPublicKey, SignedContent } from "@productive-k3s/pkg-format/minisign";
import type { CatalogSource } from "../catalog/catalog-source.js";
import type { AdmittedIndex } from "../catalog/entries-file.js";
import type { ResolvedEntry } from "../catalog/loaded-catalog.js";
import { displayUrl, type OriginAuth } from "../fetch/fetcher.js";
import type { Transport } from "../fetch/transport.js";
import { raiseSerialRecord, readSerialRecord } from "./serial-state.js";
import { fetchSignature } from "./signature-fetch.js";

/** What was verified about a cached index. */
export interface TrustRecord {
  keyId: string;
  serial: number;
  expires: string;
  /** sha256 hex of the index text the record is about. */
  sha256: string;
}

export class CatalogTrust {
  private constructor(
    readonly source: CatalogSource,
    readonly keys: MinisignPublicKey[],
  ) {}

  /** The policy of `source`, or undefined for a catalog without trusted keys. */
  static async of(source: CatalogSource): Promise<CatalogTrust | undefined> {
    if (source.trustedKeys === undefined || source.trustedKeys.length === 0) return undefined;
    const { parsePublicKey } = await import("@productive-k3s/pkg-format/minisign");
    return new CatalogTrust(
      source,
      source.trustedKeys.map((k, i) => parsePublicKey(k, `catalog "${source.name}" trusted key ${i + 1}`)),
    );
  }

  /**
   * Whether the catalog's index is signed, so the digests it lists are authentic: a registry catalog's index
   * is built from the registry's own tag lists and manifests, so there every package's signature is checked
   * each time it is used, cached or not.
   */
  get indexSigned(): boolean {
    return !this.source.url.startsWith("oci:");
  }

  private get label(): string {
    return `catalog "${this.source.name}"`;
  }

  /**
   * Fetch `<index>.minisig` and verify the index with it (its bytes, or a local index's digest taken as it was
   * read: `index-bytes.ts`): the key id that signed.
   */
  async verifyIndex(content: SignedContent, transport: Transport, auth: OriginAuth | undefined): Promise<string> {
    const sig = await fetchSignature(transport, this.source.url, `${this.label} index`, auth);
    const { verifyContent } = await import("@productive-k3s/pkg-format/minisign");
    const verified = await verifyContent(content, sig, this.keys, `${displayUrl(this.source.url)}.minisig`);
    return verified.key.id;
  }

  /** Serial, expiry, rollback and freeze checks on a verified, parsed index: the record to keep with it. */
  async admit(parsed: AdmittedIndex, keyId: string): Promise<TrustRecord> {
    const where = displayUrl(this.source.url);
    if (parsed.serial === undefined || parsed.expires === undefined) {
      throw new IntegrityError(
        "index-unversioned",
        `${this.label}: the signed index has no ${parsed.serial === undefined ? "serial" : "expires"}`,
        {
          where,
          hint: "a signed index must carry serial and expires (pk3s catalog index --sign-key writes both)",
        },
      );
    }
    const record: TrustRecord = { keyId, serial: parsed.serial, expires: parsed.expires, sha256: parsed.sha256 };
    const problem = this.expiredOrOlder(record, await readSerialRecord(this.source.url));
    if (problem !== undefined) throw problem;
    return record;
  }

  /** Remember the admitted serial (only ever raised). */
  commit(record: TrustRecord): Promise<void> {
    return raiseSerialRecord(this.source.url, record.serial, record.sha256);
  }

  /** Why a cached index may not be used now (undefined when it may). */
  async cachedProblem(record: TrustRecord | undefined, sha256: string): Promise<IntegrityError | undefined> {
    const where = displayUrl(this.source.url);
    if (record === undefined || record.sha256 !== sha256) {
      return new IntegrityError("index-not-verified", `${this.label}: the cached index was not verified with this catalog's keys`, {
        where,
        hint: `fetch it again online: pk3s catalog update ${this.source.name}`,
      });
    }
    if (!this.keys.some((k) => k.id === record.keyId)) {
      return new IntegrityError(
        "signature-untrusted-key",
        `${this.label}: the cached index was signed by key ${record.keyId}, which is no longer trusted`,
        {
          where,
          hint: `fetch it again online: pk3s catalog update ${this.source.name}`,
        },
      );
    }
    return this.expiredOrOlder(record, await readSerialRecord(this.source.url));
  }

  private expiredOrOlder(record: TrustRecord, seen: { serial: number; sha256: string } | undefined): IntegrityError | undefined {
    const where = displayUrl(this.source.url);
    const expires = Date.parse(record.expires);
    if (!(expires > Date.now())) {
      return new IntegrityError("index-expired", `${this.label}: the index (serial ${record.serial}) expired at ${record.expires}`, {
        where,
        hint: "the publisher must publish a freshly signed index; a mirror that keeps serving an old one is refused",
      });
    }
    if (seen !== undefined && record.serial < seen.serial) {
      return new IntegrityError(
        "index-rollback",
        `${this.label}: index serial ${record.serial} is lower than serial ${seen.serial} already accepted on this machine (rollback)`,
        { where, hint: "someone is serving an older index; do not trust this mirror until the publisher confirms" },
      );
    }
    if (seen !== undefined && record.serial === seen.serial && record.sha256 !== seen.sha256) {
      return new IntegrityError(
        "index-serial-reused",
        `${this.label}: index serial ${record.serial} was already accepted with different content`,
        { where, hint: "two different indexes under one serial: a mixed or replayed publication; the publisher must raise the serial" },
      );
    }
    return undefined;
  }
}

/**
 * The package's signature, verified over the downloaded bytes with the catalog's keys: the id of the key that
 * signed it. Over HTTP(S) and files it is the `.minisig` beside the package; in a registry, the signature
 * artifacts referring to the package's manifest (any one of them verifying with a trusted key will do: key
 * rotation leaves several). Refusals are IntegrityErrors (exit 6) with the reason.
 */
export async function verifyPackageSignature(
  trust: CatalogTrust,
  file: string,
  entry: ResolvedEntry,
  transport: Transport,
  auth: OriginAuth | undefined,
): Promise<string> {
  const label = `package ${entry.name}@${entry.version} from catalog "${entry.catalog}"`;
  const { verifyContent } = await import("@productive-k3s/pkg-format/minisign");
  if (entry.resolvedUrl.startsWith("oci:")) {
    const { registrySignatures } = await import("./registry-signatures.js");
    const refusals: unknown[] = [];
    for (const sig of await registrySignatures(transport, entry.resolvedUrl, label)) {
      try {
        return (await verifyContent({ file }, sig.text, trust.keys, `signature ${sig.where} of ${label}`)).key.id;
      } catch (err) {
        if (!(err instanceof IntegrityError)) throw err;
        refusals.push(err);
      }
    }
    // A signature that does not verify says more (tampering) than one by a key this catalog does not trust.
    throw refusals.find((e) => (e as IntegrityError).reason !== "signature-untrusted-key") ?? refusals[0];
  }
  const sig = await fetchSignature(transport, entry.resolvedUrl, label, auth);
  return (await verifyContent({ file }, sig, trust.keys, `${displayUrl(entry.resolvedUrl)}.minisig`)).key.id;
}

/** Refuse a catalog without trusted keys when signatures are required. */
export function unsignedCatalogError(source: CatalogSource): IntegrityError {
  return new IntegrityError("catalog-unsigned", `catalog "${source.name}" has no trusted key and signatures are required`, {
    where: displayUrl(source.url),
    hint: `trust its publisher's key (pk3s catalog trust add ${source.name} <key>), or drop --require-signatures / PK3S_REQUIRE_SIGNATURES / requireSignatures`,
  });
}
