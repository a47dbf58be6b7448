// Bounded parallelism, one way: `limit` workers share one iterator, each taking the next item
// when it is free (shards to read, members to tag, keys to fetch).

/** `items` in consecutive chunks of at most `size` (BatchGetItem takes 100 keys, BatchWriteItem 25). */
export function inChunks<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Runs `work` over `items` with at most `limit` at once. With `until`, a worker takes no
 * further item once it is true (a time budget); items already started finish. By default the
 * first failure rejects at once; with `settleAll`, every item is worked on first.
 */
export async function forEachConcurrently<T>(
  items: Iterable<T>,
  limit: number,
  work: (item: T, index: number) => Promise<void>,
  { until, settleAll = false }: { until?: () => boolean; settleAll?: boolean } = {},
): Promise<void> {
  const queue = Array.from(items).entries();
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    for (const [index, item] of queue) {
      if (until?.()) return;
      if (!settleAll) {
        await work(item, index);
        continue;
      }
      try {
        await work(item, index);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (errors.length > 0) throw errors[0];
}

/** `work` over `items`, at most `limit` at once, results in the order of the items. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  await forEachConcurrently(items, limit, async (item, index) => {
    results[index] = await work(item);
  });
  return results;
}

/**
 * One call for many concurrent requests: requests made while a call is in flight wait and go
 * together in the next one (as many as `fits` lets into one call; the rest in the calls after).
 * Every answer comes from a call that began after its request was made, so a coalesced look
 * is as fresh as a lone one, at a fraction of the calls. Calls run one at a time.
 */
export function coalesced<Request, Answer>(
  call: (requests: readonly Request[]) => Promise<Answer>,
  { fits = () => true }: { fits?: (group: readonly Request[], next: Request) => boolean } = {},
): (request: Request) => Promise<Answer> {
  let open: { requests: Request[]; answer: Promise<Answer> } | undefined;
  let previous: Promise<unknown> = Promise.resolve();
  return (request) => {
    if (!open || !fits(open.requests, request)) {
      const group: { requests: Request[]; answer: Promise<Answer> } = {
        requests: [],
        answer: previous.then(() => {
          // From here on the group is closed: later requests form the next one.
          if (open === group) open = undefined;
          return call(group.requests);
        }),
      };
      previous = group.answer.catch(() => undefined);
      open = group;
    }
    open.requests.push(request);
    return open.answer;
  };
}
