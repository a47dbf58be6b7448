import {
  type RateLimiter,
  type RateLimitPlan,
  RateLimitPlanError,
  type RateTake,
  rateRetryAfterMs,
  rateWindow,
  shardOrder,
} from '@qunfa/domain';
import { ConditionalCheckFailedException, type DocumentClient, UpdateCommand } from '../wire/dynamodb';

// Layout (metrics table):
//   rate window   pk = <account>#RATE#<shard 00–K>   sk = <window number since the epoch>
//                 parts      parts granted in that window from that shard
//                 expiresAt  TTL, epoch seconds: an hour after the window
//
// A take is one UpdateItem: ADD parts :parts, conditional on the shard having room
// (`attribute_not_exists(parts) OR parts <= :budget - :parts`). DynamoDB applies the
// condition and the ADD atomically, so however many senders race, a shard's count never
// passes its budget and the window's (the sum of the shards') never passes the plan's. No
// read, no version, no retry loop on conflicts: a refusal means that shard is full.
//
// The numbers (rateLimitPlan in @qunfa/domain): at 5,000 parts/s the window of 1 s is split
// over 20 shards of 250 parts; a take writes one shard, so each shard key sees at most 250
// successful writes/s (fewer when takes carry several parts), plus the refusals: a refused
// taker tries up to `tries` (3) shards and then waits for the next window, so refusals are at
// most 3 × the concurrent senders per window, spread over the shards (50 senders: 150
// refusals per window, under 8 per shard). Every key stays far below a partition's 1,000 WCU.
//
// Cost: 1 WCU per granted take (+1 per refused try: failed conditions are charged). The
// sender can take the parts of a whole batch in one take to divide that by the batch size.
//
// What it cannot see: `now` is the caller's clock, so the windows are only as aligned as the
// senders' clocks (Lambda hosts keep theirs synchronized to within milliseconds), and a grant
// made at the very end of a window may reach the provider in the next one. Give the plan a
// rate a little below the provider's contract.

const windowTtlSeconds = 3_600;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

export class DynamoRateLimiter implements RateLimiter {
  readonly #client: DocumentClient;
  readonly #tableName: string;
  readonly #planFor: (account: string) => RateLimitPlan;
  readonly #tries: number;
  readonly #random: () => number;

  constructor({
    client,
    tableName,
    planFor,
    tries = 3,
    random = Math.random,
  }: {
    client: DocumentClient;
    tableName: string;
    /** The plan of each provider account (rateLimitPlan of its rate); called on every take. */
    planFor: (account: string) => RateLimitPlan;
    /** Shards a take tries in one window before it waits for the next. */
    tries?: number;
    random?: () => number;
  }) {
    this.#client = client;
    this.#tableName = tableName;
    this.#planFor = planFor;
    this.#tries = tries;
    this.#random = random;
  }

  /** `now` must be the moment of the call: a stale clock would spend a past window's budget. */
  async take({ account, parts, now }: { account: string; parts: number; now: Date }): Promise<RateTake> {
    if (!Number.isInteger(parts) || parts < 1) {
      throw new RateLimitPlanError(`a take is a whole number of parts ≥ 1, not ${parts}`);
    }
    const plan = this.#planFor(account);
    const at = now.getTime();
    const window = rateWindow({ now: at, windowMs: plan.windowMs });
    const shards = shardOrder({ plan, parts, tries: this.#tries, random: this.#random });
    if (shards.length === 0) {
      throw new RateLimitPlanError(
        `${parts} parts do not fit any shard of ${account} (${plan.shardBudgets.join(', ')} parts per window)`,
      );
    }
    for (const shard of shards) {
      const budget = plan.shardBudgets[shard] ?? 0;
      try {
        await this.#client.send(
          new UpdateCommand({
            TableName: this.#tableName,
            Key: { pk: `${account}#RATE#${String(shard).padStart(2, '0')}`, sk: String(window.index) },
            UpdateExpression: 'ADD #parts :parts SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
            ConditionExpression: 'attribute_not_exists(#parts) OR #parts <= :room',
            ExpressionAttributeNames: { '#parts': 'parts' },
            ExpressionAttributeValues: {
              ':parts': parts,
              ':room': budget - parts,
              ':expiresAt': Math.ceil(window.endsAt / 1000) + windowTtlSeconds,
            },
          }),
        );
        return { granted: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    return {
      granted: false,
      retryAfterMs: rateRetryAfterMs({ now: at, windowMs: plan.windowMs, random: this.#random }),
    };
  }
}
