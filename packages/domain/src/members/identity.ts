import { createHash } from 'node:crypto';

// How members are spread and how a phone number is known once its member is erased.

/**
 * Key shards per tenant (docs/data-model.md). A 5-million-member tenant is read as 32
 * parallel queries of about 160,000 members each, and an import's writes land on 32
 * partition keys instead of one. Changing it moves every member: it is fixed.
 */
export const memberShardCount = 32;

export const memberShards: readonly number[] = Array.from({ length: memberShardCount }, (_, shard) => shard);

/** The member's shard: FNV-1a of the member id, so it is stable and evenly spread. */
export function memberShard(memberId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < memberId.length; i++) {
    hash ^= memberId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % memberShardCount;
}

/**
 * The tenant-scoped SHA-256 of an E.164 number. Opt-outs are keyed by it, so an opt-out
 * outlives the erasure of the member (and of the number in clear) and still matches the
 * number if it is imported again. It pseudonymizes; it does not make the number secret
 * (the space of mobile numbers is small enough to enumerate).
 */
export function phoneHash({ tenantId, phone }: { tenantId: string; phone: string }): string {
  return createHash('sha256').update(`${tenantId}:${phone}`).digest('hex');
}
