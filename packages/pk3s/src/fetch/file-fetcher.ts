/** `file://` sources: local catalogs and packages. No network, no auth. */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { NotFoundError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import type { Fetcher, FetchRequest, FetchResponse } from "./fetcher.js";

export class FileFetcher implements Fetcher {
  async open(request: FetchRequest): Promise<FetchResponse> {
    const path = fileURLToPath(request.url);
    let size: number;
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new StepFailedError(`${request.label}: ${path} is not a regular file`, { where: path });
      size = st.size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new NotFoundError(`${request.label}: file not found: ${path}`, { where: path });
      }
      throw err;
    }
    const stream = createReadStream(path);
    return {
      notModified: false,
      body: stream,
      size,
      url: request.url,
      status: 200,
      headers: {},
      discard: async () => {
        stream.destroy();
      },
    };
  }
}
