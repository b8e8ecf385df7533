/**
 * Listings of a registry, paged as the distribution spec says: `?n=` asks for a page size
 * (PK3S_OCI_PAGE_SIZE, default 1000; registries may send fewer), and a `Link: <…?last=…&n=…>; rel="next"`
 * header leads to the next page. The number of pages is bounded, and a next link must stay on the
 * registry (the client refuses another host).
 *
 * - tags of a repository (`/v2/<name>/tags/list`): a repository that does not exist has no tags;
 * - repositories (`/v2/_catalog`): many hosted registries do not offer it, or only to administrators;
 *   then the answer is `undefined` ("not available"), not an error.
 */
import { Pk3sError, UsageError, ValidationError } from "@productive-k3s/pkg-format/errors";
import type { FetchResponse } from "../fetch/fetcher.js";
import { CATALOG_SCOPE, repositoryScope } from "./registry-auth.js";
import { headerOf, type RegistryClient, type RegistryRequest } from "./registry-client.js";

const MAX_PAGES = 100;
const PAGE_MAX_BYTES = 8 * 1024 * 1024;

/** Entries asked for per page: PK3S_OCI_PAGE_SIZE, default 1000. */
function pageSize(): number {
  const raw = process.env.PK3S_OCI_PAGE_SIZE;
  if (raw === undefined || raw === "") return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new UsageError(`PK3S_OCI_PAGE_SIZE must be an integer from 1 to 10000, got "${raw}"`);
  return n;
}

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m !== null && /(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(m[2]!)) return m[1];
  }
  return undefined;
}

async function readJson(res: FetchResponse, label: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > PAGE_MAX_BYTES) throw new ValidationError(`${label}: a page larger than ${PAGE_MAX_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ValidationError(`${label}: the registry answered something that is not JSON`);
  }
}

/** Every page of a listing; `field` is the array in each page (`tags`, `repositories`). 404 → undefined. */
async function pages(
  client: RegistryClient,
  first: string,
  scope: string,
  label: string,
  field: "tags" | "repositories",
): Promise<string[] | undefined> {
  const out: string[] = [];
  let path: string | undefined = first;
  for (let page = 0; path !== undefined; page++) {
    if (page === MAX_PAGES) {
      throw new ValidationError(`${label}: more than ${MAX_PAGES} pages`, [], {
        hint: "the listing is too large for pk3s to read: raise PK3S_OCI_PAGE_SIZE if the registry sends small pages",
      });
    }
    const req: RegistryRequest = { path, scope, label };
    const result: { items: string[]; next: string | undefined } | undefined = await client.fetch(req, async (res) => {
      if (res.status === 404) {
        await res.discard();
        return undefined;
      }
      await client.check(res, req);
      const doc = (await readJson(res, label)) as Record<string, unknown> | null;
      const items = doc?.[field];
      // distribution answers `"tags": null` for a repository whose tags were all deleted.
      if (items !== null && items !== undefined && (!Array.isArray(items) || items.some((t) => typeof t !== "string"))) {
        throw new ValidationError(`${label}: "${field}" is not a list of strings`);
      }
      return { items: (items ?? []) as string[], next: nextLink(headerOf(res, "link")) };
    });
    if (result === undefined) return page === 0 ? undefined : out;
    out.push(...result.items);
    path = result.next;
  }
  return out;
}

/** The tags of `repository` ([] when it does not exist). */
export async function listTags(client: RegistryClient, repository: string): Promise<string[]> {
  const tags = await pages(
    client,
    `/v2/${repository}/tags/list?n=${pageSize()}`,
    repositoryScope(repository),
    `tags of oci://${client.registry}/${repository}`,
    "tags",
  );
  return tags ?? [];
}

/** Every repository of the registry, or undefined when the registry does not list them (to this user). */
export async function listRepositories(client: RegistryClient): Promise<string[] | undefined> {
  try {
    return await pages(client, `/v2/_catalog?n=${pageSize()}`, CATALOG_SCOPE, `repositories of ${client.registry}`, "repositories");
  } catch (err) {
    if (err instanceof Pk3sError && (err.code === "E_AUTH" || err.code === "E_REGISTRY")) return undefined;
    throw err;
  }
}
