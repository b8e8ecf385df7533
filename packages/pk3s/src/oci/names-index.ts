/**
 * The package names of a repository used as a catalog (`oci://HOST/REPO`, packages at `REPO/<name>`).
 *
 * Registries list tags per repository, but not always repositories: `_catalog` is missing from GHCR, ECR
 * and Docker Hub and needs administrator rights on Harbor. So `pk3s push` also keeps a small artifact at
 * `REPO:catalog` (artifactType `application/vnd.productive-k3s.catalog.v1`, one JSON layer
 * `{"packages": ["longhorn", …]}`), adding the name it pushes when it is new. A catalog reads that list
 * when it exists, and falls back to `_catalog` (repositories one level below REPO) when it does not.
 *
 * Adding is read-modify-write; two first pushes of different names at the same moment could lose one,
 * so the write is read back and retried (bounded) until the name is there.
 */
import { ExitCode, NotFoundError, Pk3sError, ValidationError } from "@productive-k3s/pkg-format/errors";
import { z } from "zod";
import { readBlob, uploadBlob } from "./blob-store.js";
import { descriptorOf, type ImageManifest, manifestBytes, parseImageManifest } from "./manifest.js";
import { getManifest, putManifest } from "./manifest-store.js";
import { EMPTY_JSON, NAMES_ARTIFACT, NAMES_LAYER, OCI_EMPTY, OCI_MANIFEST } from "./media-types.js";
import type { RegistryClient } from "./registry-client.js";
import { listRepositories } from "./tag-list.js";

export const NAMES_TAG = "catalog";
const MAX_NAMES_BYTES = 4 * 1024 * 1024;
const WRITE_ATTEMPTS = 3;

const NamesDocument = z.strictObject({ packages: z.array(z.string().min(1)) });

/** The names listed at `REPO:catalog`, or undefined when there is no such artifact. */
export async function readNamesIndex(client: RegistryClient, repository: string, fresh = false): Promise<string[] | undefined> {
  const where = `oci://${client.registry}/${repository}:${NAMES_TAG}`;
  let bytes: Buffer;
  try {
    bytes = (await getManifest(client, repository, NAMES_TAG, fresh)).bytes;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  const manifest = parseImageManifest(bytes, where);
  const layer = manifest.layers.find((l) => l.mediaType === NAMES_LAYER);
  if (manifest.artifactType !== NAMES_ARTIFACT || layer === undefined) {
    throw new ValidationError(
      `${where} is not a pk3s names index (its type is ${manifest.artifactType ?? manifest.config.mediaType})`,
      [],
      {
        where,
        hint: `the tag "${NAMES_TAG}" of a catalog repository is reserved for pk3s's list of package names`,
      },
    );
  }
  const text = (await readBlob(client, repository, layer, `names index ${where}`, MAX_NAMES_BYTES)).toString("utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ValidationError(`${where}: the names index is not JSON`, [], { where });
  }
  const parsed = NamesDocument.safeParse(doc);
  if (!parsed.success) throw new ValidationError(`${where}: expected {"packages": [names]}`, [], { where });
  return parsed.data.packages;
}

async function writeNamesIndex(client: RegistryClient, repository: string, names: string[], created: string): Promise<void> {
  const layerBytes = Buffer.from(JSON.stringify({ packages: names }), "utf8");
  const layer = descriptorOf(NAMES_LAYER, layerBytes);
  const config = descriptorOf(OCI_EMPTY, EMPTY_JSON);
  await uploadBlob(client, repository, config, () => EMPTY_JSON, "the empty config {}");
  await uploadBlob(client, repository, layer, () => layerBytes, "the names index");
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: NAMES_ARTIFACT,
    config,
    layers: [layer],
    annotations: { "org.opencontainers.image.created": created },
  };
  await putManifest(client, repository, NAMES_TAG, manifestBytes(manifest), OCI_MANIFEST);
}

/** Make sure `name` is listed at `REPO:catalog`. */
export async function addToNamesIndex(
  client: RegistryClient,
  repository: string,
  name: string,
  created: string,
): Promise<"present" | "added"> {
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
    const names = (await readNamesIndex(client, repository, true)) ?? [];
    if (names.includes(name)) return attempt === 1 ? "present" : "added";
    await writeNamesIndex(client, repository, [...new Set([...names, name])].sort(), created);
  }
  const names = (await readNamesIndex(client, repository, true)) ?? [];
  if (names.includes(name)) return "added";
  throw new Pk3sError(
    "E_REGISTRY",
    ExitCode.failed,
    `oci://${client.registry}/${repository}:${NAMES_TAG}: another push keeps replacing the names index`,
    {
      hint: "push again once the other publisher is done",
    },
  );
}

/** Where a catalog's names came from. */
export type NamesSource = "names-index" | "_catalog";

/** The package names under `repository`: its names index, else `_catalog`; undefined when neither exists. */
export async function packageNames(
  client: RegistryClient,
  repository: string,
): Promise<{ names: string[]; from: NamesSource } | undefined> {
  const listed = await readNamesIndex(client, repository);
  if (listed !== undefined) return { names: listed, from: "names-index" };
  const all = await listRepositories(client);
  if (all === undefined) return undefined;
  const prefix = `${repository}/`;
  const names = all.filter((r) => r.startsWith(prefix) && !r.slice(prefix.length).includes("/")).map((r) => r.slice(prefix.length));
  return { names, from: "_catalog" };
}
