import { memberShards } from './identity';
import type { Member } from './member';
import type { MemberStore } from './store';

/**
 * Streams a tenant's members that match `predicate`, reading the given shards (all of them
 * by default) in parallel and yielding each page's matches as soon as it arrives. The
 * segmenter gives each worker its own slice of shards and checkpoints per shard.
 */
export async function* resolveAudience({
  store,
  tenantId,
  predicate,
  shards = memberShards,
  parallelism = 8,
  pageSize,
}: {
  store: Pick<MemberStore, 'scanShard'>;
  tenantId: string;
  predicate: (member: Member) => boolean;
  shards?: readonly number[];
  parallelism?: number;
  pageSize?: number;
}): AsyncGenerator<{ shard: number; members: Member[] }> {
  const pending = [...shards];
  type Next = { shard: number; iterator: AsyncIterator<Member[]>; result: IteratorResult<Member[]> };
  const inFlight = new Map<number, Promise<Next>>();
  const pull = (shard: number, iterator: AsyncIterator<Member[]>): void => {
    inFlight.set(
      shard,
      iterator.next().then((result) => ({ shard, iterator, result })),
    );
  };
  const open = (): void => {
    while (inFlight.size < parallelism && pending.length > 0) {
      const shard = pending.shift();
      if (shard === undefined) break;
      const pages = store.scanShard(tenantId, shard, pageSize === undefined ? {} : { pageSize });
      pull(shard, pages[Symbol.asyncIterator]());
    }
  };
  open();
  try {
    while (inFlight.size > 0) {
      const { shard, iterator, result } = await Promise.race(inFlight.values());
      inFlight.delete(shard);
      if (result.done) {
        open();
        continue;
      }
      pull(shard, iterator);
      const members = result.value.filter(predicate);
      if (members.length > 0) yield { shard, members };
    }
  } finally {
    // Stopped early (or failed): close the shards still open, so their queries stop.
    for (const next of inFlight.values()) {
      const settled = await next.catch(() => undefined);
      await settled?.iterator.return?.();
    }
  }
}
