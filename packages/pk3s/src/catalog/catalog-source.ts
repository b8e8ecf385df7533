/**
 * A catalog source: where an index lives and how to reach it. Sources are
 * `http(s)://` URLs, `file://` URLs or plain paths; a URL or directory that
 * does not name a `.yaml`/`.yml`/`.json` file means its `index.yaml` (like a
 * Helm repository URL).
 */
import { statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "@productive-k3s/pkg-format/errors";
import { isOciUrl, parseOciRepository, repositoryUrl } from "../oci/reference.js";

// The types come from the configuration's zod schema (one source of truth).
export type { CatalogAuthConfig, CatalogSource } from "./config-schema.js";

function isIndexFile(pathname: string): boolean {
  return /\.(ya?ml|json)$/i.test(pathname);
}

/**
 * Normalise what the user typed (`https://…`, `file://…`, `./dir`, `/abs/index.yaml`) to the index URL;
 * an OCI registry repository (`oci://HOST/REPO`) stays as it is, checked.
 */
export function normaliseSourceUrl(input: string, cwd = process.cwd()): string {
  if (isOciUrl(input)) return repositoryUrl(parseOciRepository(input, "a registry catalog"));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new UsageError(`invalid catalog URL "${input}"`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:" && url.protocol !== "file:") {
      throw new UsageError(`unsupported catalog URL scheme "${url.protocol}"`, {
        hint: "use http://, https://, oci://, file:// or a local path",
      });
    }
    if (url.username !== "" || url.password !== "") {
      throw new UsageError("catalog URLs must not embed credentials", {
        hint: "pass --token-env VAR or --username U --password-env VAR: the secret stays in the environment",
      });
    }
    if (url.protocol === "file:") return normaliseSourceUrl(decodeURIComponent(url.pathname), cwd);
    if (!isIndexFile(url.pathname)) url.pathname = `${url.pathname.replace(/\/?$/, "/")}index.yaml`;
    return url.toString();
  }
  let path = isAbsolute(input) ? input : resolve(cwd, input);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    isDir = !isIndexFile(path);
  }
  if (isDir) path = resolve(path, "index.yaml");
  return pathToFileURL(path).toString();
}

/** Resolve an entry's URL (absolute or relative) against the catalog's own URL. */
export function resolveEntryUrl(entryUrl: string, catalogUrl: string): URL {
  return new URL(entryUrl, catalogUrl);
}
