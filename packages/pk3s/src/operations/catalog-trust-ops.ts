/**
 * `pk3s catalog trust add|remove|list NAME` and `catalog trust require on|off`: the keys a catalog's index and
 * packages must be signed with (several at once for a key rotation), and whether unsigned catalogs are refused.
 */
import { NotFoundError, UsageError } from "@productive-k3s/pkg-format/errors";
import { parsePublicKey, readPublicKey } from "@productive-k3s/pkg-format/minisign";
import { assertValidName } from "@productive-k3s/pkg-format/names";
import { builtinSources, configFile, loadConfig, type Pk3sConfig, saveConfig } from "../catalog/catalog-config.js";
import type { CatalogSource } from "../catalog/catalog-source.js";

export interface TrustedKeyView {
  keyId: string;
  publicKey: string;
}

export interface CatalogTrustView {
  catalog: string;
  keys: TrustedKeyView[];
}

function keyView(line: string): TrustedKeyView {
  return { keyId: parsePublicKey(line, "trusted key").id, publicKey: line };
}

async function configured(name: string): Promise<{ config: Pk3sConfig; source: CatalogSource }> {
  assertValidName("catalog", name, "catalog name");
  const config = await loadConfig();
  const source = config.catalogs.find((c) => c.name === name);
  if (source === undefined) {
    const builtin = builtinSources().some((b) => b.name === name);
    throw new NotFoundError(`no catalog named "${name}" was added with pk3s catalog add`, {
      where: configFile(),
      hint: builtin
        ? `"${name}" is built in and holds no keys; add its URL under a name of your own with --trust-key`
        : "list them with `pk3s catalog list`",
    });
  }
  return { config, source };
}

function result(source: CatalogSource): CatalogTrustView {
  return { catalog: source.name, keys: (source.trustedKeys ?? []).map(keyView) };
}

export async function trustKey(name: string, key: string): Promise<CatalogTrustView & { added: boolean }> {
  const { config, source } = await configured(name);
  const pub = await readPublicKey(key, "trusted key");
  const keys = source.trustedKeys ?? [];
  const added = !keys.includes(pub.base64);
  if (added) source.trustedKeys = [...keys, pub.base64];
  await saveConfig(config);
  return { ...result(source), added };
}

/** `key` is a key id (as listed), a key's base64 line, or a public key file. */
export async function untrustKey(name: string, key: string): Promise<CatalogTrustView & { removed: string }> {
  const { config, source } = await configured(name);
  const keys = source.trustedKeys ?? [];
  const wanted = /^[0-9A-Fa-f]{16}$/.test(key) ? key.toUpperCase() : (await readPublicKey(key, "key")).id;
  const match = keys.find((k) => keyView(k).keyId === wanted);
  if (match === undefined) {
    throw new NotFoundError(`catalog "${name}" does not trust key ${wanted}`, {
      hint: `its trusted keys: pk3s catalog trust list ${name}`,
    });
  }
  source.trustedKeys = keys.filter((k) => k !== match);
  if (source.trustedKeys.length === 0) source.trustedKeys = undefined;
  await saveConfig(config);
  return { ...result(source), removed: wanted };
}

export async function listTrust(name: string): Promise<CatalogTrustView> {
  return result((await configured(name)).source);
}

export async function setRequireSignatures(value: string): Promise<{ requireSignatures: boolean }> {
  if (value !== "on" && value !== "off") throw new UsageError(`expected on or off, got "${value}"`);
  const config = await loadConfig();
  config.requireSignatures = value === "on";
  await saveConfig(config);
  return { requireSignatures: config.requireSignatures };
}
