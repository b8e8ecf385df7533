/**
 * Turning transport failures into the shared typed errors: what failed and
 * which URL, never a stack. Connection resets and truncated bodies become
 * retryable; timeouts and DNS failures do not (retrying a stall only
 * multiplies the wait the user configured).
 */
import { Pk3sError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { displayUrl, RetryableFetchError } from "./fetcher.js";

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ECONNABORTED",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface TimeoutSettings {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

/**
 * Map a thrown transport error to a retryable error or a final typed error.
 * Typed errors (already classified) pass through.
 */
export function classifyNetworkError(err: unknown, url: URL, label: string, timeouts: TimeoutSettings): Error {
  if (err instanceof Pk3sError || err instanceof RetryableFetchError) return err;
  const code = errorCode(err);
  const shown = displayUrl(url);
  const detail = err instanceof Error ? err.message : String(err);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    const which = code === "UND_ERR_CONNECT_TIMEOUT" ? "connecting" : "waiting for data";
    const limit = code === "UND_ERR_CONNECT_TIMEOUT" ? timeouts.connectTimeoutMs : timeouts.idleTimeoutMs;
    return new StepFailedError(`${label}: timed out after ${limit / 1000}s ${which} (${shown})`, {
      where: shown,
      hint: "check the network or raise PK3S_HTTP_TIMEOUT / PK3S_CONNECT_TIMEOUT (seconds)",
    });
  }
  if (code !== undefined && RETRYABLE_CODES.has(code)) {
    return new RetryableFetchError(`${label}: connection failed (${code}: ${detail}) for ${shown}`, undefined, { cause: err });
  }
  if (code === "ENOTFOUND") {
    return new StepFailedError(`${label}: host not found for ${shown}`, {
      where: shown,
      hint: "check the URL and your DNS/proxy settings",
    });
  }
  return new StepFailedError(`${label}: network failure for ${shown}: ${detail}${code ? ` (${code})` : ""}`, { where: shown });
}
