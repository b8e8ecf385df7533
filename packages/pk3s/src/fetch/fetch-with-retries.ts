/**
 * Bounded retries with exponential backoff around "open + consume the body",
 * so a connection reset half-way through a download restarts it cleanly.
 */
import { StepFailedError } from "@productive-k3s/pkg-format/errors";
import { displayUrl, type Fetcher, type FetchRequest, type FetchResponse, RetryableFetchError } from "./fetcher.js";
import { classifyNetworkError } from "./network-errors.js";

export interface RetryPolicy {
  tries: number;
  baseDelayMs: number;
  onRetry?: ((message: string, attempt: number, delayMs: number) => void) | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function fetchWithRetries<T>(
  fetcher: Fetcher,
  request: FetchRequest,
  policy: RetryPolicy,
  consume: (response: FetchResponse) => Promise<T>,
): Promise<T> {
  let last: RetryableFetchError | undefined;
  for (let attempt = 1; attempt <= policy.tries; attempt++) {
    try {
      const response = await fetcher.open(request);
      try {
        return await consume(response);
      } catch (err) {
        await response.discard().catch(() => undefined);
        throw classifyNetworkError(err, response.url, request.label);
      }
    } catch (err) {
      if (!(err instanceof RetryableFetchError)) throw err;
      last = err;
      if (attempt === policy.tries) break;
      const delay = err.retryAfterMs ?? policy.baseDelayMs * 2 ** (attempt - 1);
      policy.onRetry?.(err.message, attempt, delay);
      await sleep(delay);
    }
  }
  throw new StepFailedError(`${last?.message ?? "request failed"} (gave up after ${policy.tries} attempts)`, {
    where: displayUrl(request.url),
    hint: "the server or the network is failing; try again later",
  });
}
