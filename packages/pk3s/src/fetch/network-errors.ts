/**
 * Turning transport failures into the shared typed errors: what failed and
 * which URL, never a stack. Connection resets and truncated bodies become
 * retryable; timeouts, TLS and DNS failures do not (retrying a stall only
 * multiplies the wait the user configured). The fetcher's own timeouts
 * arrive here already typed.
 */
import { Pk3sError, StepFailedError } from "@productive-k3s/pkg-format/errors";
import { displayUrl, RetryableFetchError } from "./fetcher.js";

const RETRYABLE_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ECONNABORTED", "EAI_AGAIN", "ERR_STREAM_PREMATURE_CLOSE"]);
/** Errors that mean "the server's certificate is not trusted" (a missing CA, an expired or misnamed certificate). */
export const TLS_TRUST_CODES: ReadonlySet<string> = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The first system `code` on the error or its causes (ECONNRESET, EPROTO, …); our own error codes (E_…) are skipped. */
export function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "" && !(current instanceof Pk3sError)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Map a thrown transport error to a retryable error or a final typed error.
 * Typed errors (already classified) pass through.
 */
export function classifyNetworkError(err: unknown, url: URL, label: string): Error {
  if (err instanceof Pk3sError || err instanceof RetryableFetchError) return err;
  const code = errorCode(err);
  const shown = displayUrl(url);
  const detail = err instanceof Error ? err.message : String(err);
  if (code !== undefined && RETRYABLE_CODES.has(code)) {
    return new RetryableFetchError(`${label}: connection failed (${code}: ${detail}) for ${shown}`, undefined, { cause: err });
  }
  if (code === "ENOTFOUND") {
    return new StepFailedError(`${label}: host not found for ${shown}`, {
      where: shown,
      hint: "check the URL and your DNS/proxy settings",
    });
  }
  if (code === "ETIMEDOUT") {
    return new StepFailedError(`${label}: connection timed out for ${shown}: ${detail}`, {
      where: shown,
      hint: "check the network and proxy settings",
    });
  }
  if (code !== undefined && TLS_TRUST_CODES.has(code)) {
    return new StepFailedError(`${label}: TLS certificate not accepted for ${shown}: ${detail} (${code})`, {
      where: shown,
      hint: "a private CA can be trusted with NODE_EXTRA_CA_CERTS=/path/to/ca.pem",
      cause: err,
    });
  }
  return new StepFailedError(`${label}: network failure for ${shown}: ${detail}${code ? ` (${code})` : ""}`, { where: shown, cause: err });
}
