/**
 * Calls of an async function over a list, at most `limit` in flight, with the answers of one-after-the-other
 * calls: results in the items' order, and on failure no item after the first failing one is started while
 * every item before it was, so the first failure in order is always the same one.
 */

export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** The outcome of `fn` for each item up to and including the first that fails (all of them when none does). */
export async function settleBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<Settled<R>[]> {
  const out: Settled<R>[] = new Array(items.length);
  let next = 0;
  let stopAt = items.length;
  const worker = async (): Promise<void> => {
    while (next < stopAt) {
      const i = next++;
      try {
        out[i] = { ok: true, value: await fn(items[i] as T, i) };
      } catch (error) {
        out[i] = { ok: false, error };
        stopAt = Math.min(stopAt, i);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out.slice(0, Math.min(stopAt + 1, items.length));
}

/** `fn` over `items`, results in order; throws the error of the first failing item in order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  return (await settleBounded(items, limit, fn)).map((s) => {
    if (!s.ok) throw s.error;
    return s.value;
  });
}
