/**
 * `oci://` URLs for the transport (catalog entries and direct references): the package layer of the
 * artifact the reference names, streamed and checked against the manifest's descriptor as it arrives
 * (`blob-store.ts`). The download code above then checks the catalog's digest and caches by content, as
 * for any other URL.
 */
import type { Fetcher, FetchRequest, FetchResponse } from "../fetch/fetcher.js";
import { openBlob } from "./blob-store.js";
import { resolvePackageArtifact } from "./package-artifact.js";
import { parseOciReference } from "./reference.js";
import type { Registries } from "./registries.js";

export class OciFetcher implements Fetcher {
  constructor(readonly registries: Registries) {}

  async open(request: FetchRequest): Promise<FetchResponse> {
    const ref = parseOciReference(request.url.toString());
    const client = await this.registries.client(ref.registry);
    const artifact = await resolvePackageArtifact(client, ref);
    return openBlob(client, ref.repository, artifact.layer, request.label);
  }
}
