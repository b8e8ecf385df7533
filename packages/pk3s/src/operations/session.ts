/**
 * What every catalog-backed command needs: the configured sources, a
 * transport, and catalogs loaded honouring `--offline` and the TTL.
 */

import { warn } from "@productive-k3s/pkg-format/cli";
import { NotFoundError } from "@productive-k3s/pkg-format/errors";
import { packageVersion } from "@productive-k3s/pkg-format/version";
import { type EffectiveSources, effectiveSources, noCatalogsError, requireSignatures } from "../catalog/catalog-config.js";
import type { CompactQuery } from "../catalog/catalog-query.js";
import { loadCatalogs } from "../catalog/catalog-set.js";
import type { CatalogSource } from "../catalog/catalog-source.js";
import { authForCatalog } from "../catalog/credentials.js";
import type { LoadedCatalog, ResolvedEntry } from "../catalog/loaded-catalog.js";
import type { PackageSpec } from "../catalog/resolve.js";
import type { OriginAuth } from "../fetch/fetcher.js";
import { Transport } from "../fetch/transport.js";
import type { RegistryFlags } from "../oci/registry-settings.js";
import { CatalogTrust } from "../trust/catalog-trust.js";

export interface SessionOptions {
  offline?: boolean | undefined;
  /** `--require-signatures` (the configuration and PK3S_REQUIRE_SIGNATURES can also require them). */
  requireSignatures?: boolean | undefined;
  /** `--ca-file` / `--plain-http` for OCI registries. */
  registry?: RegistryFlags | undefined;
}

export class Session {
  readonly transport: Transport;
  private sourcesCache: CatalogSource[] | undefined;
  /** The configuration and the sources it makes: config.json is read once per session. */
  private effective: Promise<EffectiveSources> | undefined;
  private readonly trusts = new Map<string, Promise<CatalogTrust | undefined>>();
  private requireSignaturesSetting: Promise<boolean> | undefined;

  constructor(readonly options: SessionOptions = {}) {
    this.transport = new Transport({
      userAgent: () => `pk3s/${packageVersion(import.meta.url)} node/${process.versions.node}`,
      onRetry: (message, attempt, delayMs) => warn(`${message}; retrying in ${(delayMs / 1000).toFixed(1)}s (attempt ${attempt + 1})`),
      registry: options.registry,
    });
  }

  private effectiveSources(): Promise<EffectiveSources> {
    this.effective ??= effectiveSources();
    return this.effective;
  }

  async sources(): Promise<CatalogSource[]> {
    if (this.sourcesCache === undefined) {
      const { sources } = await this.effectiveSources();
      if (sources.length === 0) throw noCatalogsError();
      this.sourcesCache = sources;
    }
    return this.sourcesCache;
  }

  /**
   * Load all catalogs, or only the one a qualified spec names. `query` narrows
   * what is read from the parsed-entries cache (search); without it every entry is loaded.
   */
  async catalogs(spec?: PackageSpec, forceRefresh = false, query?: CompactQuery): Promise<LoadedCatalog[]> {
    let sources = await this.sources();
    if (spec?.catalog !== undefined) {
      sources = sources.filter((s) => s.name === spec.catalog);
      if (sources.length === 0) {
        throw new NotFoundError(`no catalog named "${spec.catalog}"`, { where: spec.catalog, hint: "list them with `pk3s catalog list`" });
      }
    }
    // A catalog that cannot be read comes back holding its failure: resolution (resolve.ts) fails closed when it
    // reaches it, search leaves it out with a warning.
    return loadCatalogs(sources, {
      transport: this.transport,
      offline: this.options.offline === true,
      forceRefresh,
      query,
      requireSignatures: await this.signaturesRequired(),
    });
  }

  /**
   * The catalogs narrowed to the entries a resolution can reach: every entry
   * named `names`, then every entry those depend on, layer by layer, until no
   * new name appears (bounded: the set of names only grows, within the
   * catalogs). Each layer reads only the names it adds; resolving from the
   * result gives the same answer as from all entries, and reads a few lines of
   * a 100,000-entry catalog instead of all of it.
   */
  async catalogsReaching(names: Iterable<string>, spec?: PackageSpec): Promise<LoadedCatalog[]> {
    const seen = new Set(names);
    let ask = new Set(seen);
    const merged = await this.catalogs(spec, false, { names: ask });
    for (;;) {
      const next = new Set<string>();
      for (const c of merged) {
        for (const e of c.entries) {
          if (!ask.has(e.name)) continue;
          for (const d of e.dependencies ?? []) if (!seen.has(d.name)) next.add(d.name);
        }
      }
      if (next.size === 0) return merged;
      for (const n of next) seen.add(n);
      ask = next;
      const layer = await this.catalogs(spec, false, { names: ask });
      for (const [i, c] of merged.entries()) {
        // A catalog read whole this time (revalidated over the network) already holds every name: no duplicates.
        const present = new Set(c.entries.map((e) => e.name));
        const added = (layer[i]?.entries ?? []).filter((e) => ask.has(e.name) && !present.has(e.name));
        // A layer that could not be read (a shard refused, exit 6) fails the catalog, as the first read would.
        merged[i] = { ...c, entries: [...c.entries, ...added], failure: c.failure ?? layer[i]?.failure };
      }
    }
  }

  /** Credentials of the entry's catalog (bound to that catalog's origin only). */
  async authFor(entry: ResolvedEntry): Promise<OriginAuth | undefined> {
    const source = (await this.sources()).find((s) => s.name === entry.catalog);
    return source === undefined ? undefined : authForCatalog(source);
  }

  /** Whether signatures are required: the flag, the environment or the configuration (read once). */
  signaturesRequired(): Promise<boolean> {
    this.requireSignaturesSetting ??= requireSignatures(this.options.requireSignatures, () =>
      this.effectiveSources().then((e) => e.config),
    );
    return this.requireSignaturesSetting;
  }

  /** The trust policy of the entry's catalog (undefined for a catalog without trusted keys). */
  trustFor(entry: ResolvedEntry): Promise<CatalogTrust | undefined> {
    let trust = this.trusts.get(entry.catalog);
    if (trust === undefined) {
      // Not this.sources(): a direct oci:// reference comes from no configured catalog (and may run with none).
      trust = this.effectiveSources().then(({ sources }) => {
        const source = sources.find((s) => s.name === entry.catalog);
        return source === undefined ? undefined : CatalogTrust.of(source);
      });
      this.trusts.set(entry.catalog, trust);
    }
    return trust;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

/** Run `fn` with a session, always closing its connections. */
export async function withSession<T>(options: SessionOptions, fn: (session: Session) => Promise<T>): Promise<T> {
  const session = new Session(options);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
