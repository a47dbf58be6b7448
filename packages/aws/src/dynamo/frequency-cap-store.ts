import {
  backoff,
  type CapDecision,
  capSend,
  decideCapClaim,
  type FrequencyCapClaim,
  type FrequencyCapStore,
  type FrequencyCapToken,
} from '@qunfa/domain';
import * as z from 'zod';
import {
  ConditionalCheckFailedException,
  type DocumentClient,
  GetCommand,
  UpdateCommand,
} from '../wire/dynamodb';

// Layout (suppressions table):
//   cap   pk = <tenant>#CAP#<bucket 00–63, FNV-1a of the member key>   sk = <member key>
//         sends   list of { claimId, at, day }: the member's marketing sends any cap still sees
//         version number, +1 on every write
//         expiresAt  TTL, epoch seconds: the last send + the longest window + 1 day
//
// Why one item per member with a version, not counters: the caps are ROLLING windows (2 in
// any 7 days), which a counter cannot answer without one counter per day and a read of 30
// of them; and the daily cap is a calendar day in the member's zone. So the item keeps the
// few sends that still count (at most the largest cap plus that day's; about 0.5 KB), the
// domain decides (decideCapClaim), and the write is an UpdateItem conditional on the
// version that was read (attribute_not_exists for the first send). Two claims that read the same
// version cannot both write: the loser reads again and decides again against the winner's
// send, so there is no read-modify-write race. Claims for one member rarely meet (two
// campaigns reaching the same person in the same few milliseconds), and each lost race means
// another claim (or a release) for that member was written, so a claim loses about as many
// races as the member's cap (2 by default) before it is refused; `maxAttempts` bounds it.
// TTL may delete an item any time after `expiresAt` (within days on AWS, at once on DynamoDB
// Local): the sends it held no longer count by then, and decideCapClaim trims by time, so
// when the deletion happens never matters.
//
// Cost per marketing message: 1 strongly consistent GetItem (1 RCU, item < 4 KB) + 1
// UpdateItem (1 WCU, item < 1 KB); a refused claim costs the read only; a lost race adds 1 RCU
// + 1 WCU (a failed conditional write is charged). A release costs the same as a claim.
// Notifications are not counted and cost nothing here.
//
// Hot keys: one tenant sending 5,000 marketing messages/s spreads them over 64 partition
// keys: about 78 writes/s and 78 reads/s per key, far below a partition's 1,000 WCU / 3,000
// RCU; one member's item takes a few writes a week. The buckets (as for opt-outs) also let a
// tenant's cap items be listed with 64 queries.

const bucketCount = 64;

function bucketOf(memberKey: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < memberKey.length; i++) {
    hash ^= memberKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return String((hash >>> 0) % bucketCount).padStart(2, '0');
}

/** The key of a member's cap item (for tools and tests that read it). */
export function frequencyCapKey(tenantId: string, memberKey: string): { pk: string; sk: string } {
  return { pk: `${tenantId}#CAP#${bucketOf(memberKey)}`, sk: memberKey };
}
const keyOf = frequencyCapKey;

const storedCaps = z.object({ sends: z.array(capSend), version: z.number().int().min(0) });
type StoredCaps = z.infer<typeof storedCaps>;

/** Another writer kept changing the member's cap item while a slot was being released. */
export class FrequencyCapReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrequencyCapReleaseError';
  }
}

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export class DynamoFrequencyCapStore implements FrequencyCapStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;
  readonly #maxAttempts: number;
  readonly #random: () => number;

  constructor({
    client,
    tableName,
    maxAttempts = 6,
    random = Math.random,
  }: {
    client: DocumentClient;
    tableName: string;
    /** Reads and conditional writes one claim may make before it reports `contended`. */
    maxAttempts?: number;
    random?: () => number;
  }) {
    this.#client = client;
    this.#tableName = tableName;
    this.#maxAttempts = maxAttempts;
    this.#random = random;
  }

  async claim({
    tenantId,
    memberKey,
    claimId,
    now,
    caps,
    day,
  }: Parameters<FrequencyCapStore['claim']>[0]): Promise<FrequencyCapClaim> {
    const key = keyOf(tenantId, memberKey);
    const token: FrequencyCapToken = { tenantId, memberKey, claimId };
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      // The first read is eventually consistent (half the read cost): the versioned write
      // below refuses a grant decided on a stale item. What is decided without a write (a
      // refusal, or a hold this claim already has) is never decided on one: read again.
      let current = await this.#read(key, { consistent: attempt > 1 });
      let decision = decideCapClaim({ sends: current?.sends ?? [], claimId, now, rules: caps, day });
      if (attempt === 1 && (!decision.granted || decision.held)) {
        current = await this.#read(key, { consistent: true });
        decision = decideCapClaim({ sends: current?.sends ?? [], claimId, now, rules: caps, day });
      }
      if (!decision.granted) {
        return {
          granted: false,
          reason: 'capped',
          cap: decision.cap,
          retryAt: new Date(decision.retryAt).toISOString(),
        };
      }
      if (decision.held) return { granted: true, token };
      if (await this.#write({ key, expected: current?.version, decision })) return { granted: true, token };
      await this.#pause(attempt);
    }
    const wait = 1_000 + backoff({ attempt: 1, baseMs: 1_000, capMs: 1_000, random: this.#random });
    return { granted: false, reason: 'contended', retryAt: new Date(now.getTime() + wait).toISOString() };
  }

  async release({ tenantId, memberKey, claimId }: FrequencyCapToken): Promise<void> {
    const key = keyOf(tenantId, memberKey);
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const current = await this.#read(key, { consistent: true });
      if (!current?.sends.some((send) => send.claimId === claimId)) return;
      try {
        await this.#client.send(
          new UpdateCommand({
            TableName: this.#tableName,
            Key: key,
            UpdateExpression: 'SET sends = :sends, version = :next',
            ConditionExpression: 'version = :version',
            ExpressionAttributeValues: {
              ':sends': current.sends.filter((send) => send.claimId !== claimId),
              ':next': current.version + 1,
              ':version': current.version,
            },
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      await this.#pause(attempt);
    }
    throw new FrequencyCapReleaseError(
      `The cap slot of ${claimId} could not be released after ${this.#maxAttempts} attempts.`,
    );
  }

  async #read(
    key: { pk: string; sk: string },
    { consistent }: { consistent: boolean },
  ): Promise<StoredCaps | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: key, ConsistentRead: consistent }),
    );
    return Item ? storedCaps.parse(Item) : undefined;
  }

  /**
   * The decision written if the item is still at `expected`; false when another writer won.
   * An SDK retry of a write that did land fails its condition too: the next read then finds
   * the claim already held, and it is granted once.
   */
  async #write({
    key,
    expected,
    decision,
  }: {
    key: { pk: string; sk: string };
    expected: number | undefined;
    decision: Extract<CapDecision, { granted: true }>;
  }): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: key,
          UpdateExpression: 'SET sends = :sends, version = :next, expiresAt = :expiresAt',
          ConditionExpression: expected === undefined ? 'attribute_not_exists(pk)' : 'version = :version',
          ExpressionAttributeValues: {
            ':sends': decision.sends,
            ':next': (expected ?? 0) + 1,
            ':expiresAt': decision.expiresAt,
            ...(expected === undefined ? {} : { ':version': expected }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** A few milliseconds, jittered, so the claims that lost a race do not meet again at once. */
  #pause(attempt: number): Promise<void> {
    const ms = 5 + backoff({ attempt, baseMs: 10, capMs: 200, random: this.#random });
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
