// The provider's rate limit (ARCHITECTURE.md invariant 5), counted in message parts (a
// 140-character Chinese SMS is 3 parts) and shared by every concurrent sender of one
// provider account. The limiter is a fixed window split over shards: each window of
// `windowMs` has a budget of `partsPerSecond × windowMs / 1000` parts, divided among K
// shard counters whose budgets add up to exactly the window's budget. A taker adds its
// parts to one shard with a conditional write that refuses to pass that shard's budget, so
// however many takers race, a window never grants more than its budget.
//
// Why shards: one counter item taking 5,000 writes/s is a hot key (a DynamoDB partition
// takes 1,000 write units/s, and ARCHITECTURE.md asks for a few hundred at most). With K
// shards each key takes at most partsPerSecond / K successful writes per second (a write
// takes at least one part). K = ceil(partsPerSecond / maxPartsPerShardPerSecond), 250 by
// default: 5,000 parts/s → 20 shards of 250; 50 parts/s → 1 shard.
//
// The cost of sharding is fragmentation: a shard may refuse a 3-part message while another
// still has room. A taker tries a few shards in random order before it waits for the next
// window, so the limiter may grant a little less than the budget, never more. Each shard's
// budget holds at least `maxPartsPerTake` parts, so the longest message always fits a shard.

/** How one provider account's rate is enforced. */
export interface RateLimitPlan {
  readonly partsPerSecond: number;
  readonly windowMs: number;
  /** Parts per window: floor(partsPerSecond × windowMs / 1000). */
  readonly budget: number;
  /** Budget of each shard per window; they sum to `budget`. */
  readonly shardBudgets: readonly number[];
}

export class RateLimitPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RateLimitPlanError';
  }
}

/**
 * The shards and budgets for a rate of `partsPerSecond`.
 *
 * - `windowMs` (default 1,000): providers state their limits per second and count them in
 *   fixed seconds. Fixed windows let a burst at the end of one window meet one at the start
 *   of the next, so any sliding second sees at most two budgets; a provider that counts in
 *   sliding windows is honoured by giving half its rate, or a shorter window.
 * - `maxPartsPerShardPerSecond` (default 250) bounds the writes each shard key takes.
 * - `maxPartsPerTake` (default 10): the most parts one take may ask for (one long message).
 */
export function rateLimitPlan({
  partsPerSecond,
  windowMs = 1000,
  maxPartsPerShardPerSecond = 250,
  maxPartsPerTake = 10,
}: {
  partsPerSecond: number;
  windowMs?: number;
  maxPartsPerShardPerSecond?: number;
  maxPartsPerTake?: number;
}): RateLimitPlan {
  if (!Number.isFinite(partsPerSecond) || partsPerSecond <= 0) {
    throw new RateLimitPlanError(
      `a rate must be a positive number of parts per second, not ${partsPerSecond}`,
    );
  }
  if (!Number.isInteger(windowMs) || windowMs < 100) {
    throw new RateLimitPlanError(`a window must be a whole number of milliseconds ≥ 100, not ${windowMs}`);
  }
  const budget = Math.floor((partsPerSecond * windowMs) / 1000);
  if (budget < maxPartsPerTake) {
    throw new RateLimitPlanError(
      `${partsPerSecond} parts/s gives ${budget} parts per ${windowMs} ms window, fewer than the ${maxPartsPerTake} parts of the longest message: use a longer window`,
    );
  }
  const wanted = Math.ceil(partsPerSecond / maxPartsPerShardPerSecond);
  const shardCount = Math.max(1, Math.min(wanted, Math.floor(budget / maxPartsPerTake)));
  return { partsPerSecond, windowMs, budget, shardBudgets: splitBudget({ budget, shardCount }) };
}

/** `budget` split over `shardCount` shards as evenly as whole parts allow; the sum is `budget`. */
export function splitBudget({ budget, shardCount }: { budget: number; shardCount: number }): number[] {
  const base = Math.floor(budget / shardCount);
  const extra = budget % shardCount;
  return Array.from({ length: shardCount }, (_, shard) => base + (shard < extra ? 1 : 0));
}

/** The fixed window `now` falls in: its number (since the epoch) and when it ends. */
export function rateWindow({ now, windowMs }: { now: number; windowMs: number }): {
  index: number;
  endsAt: number;
} {
  const index = Math.floor(now / windowMs);
  return { index, endsAt: (index + 1) * windowMs };
}

/**
 * Up to `tries` distinct shards that can hold `parts`, in random order: takers spread
 * evenly, and a refused taker tries elsewhere before it waits.
 */
export function shardOrder({
  plan,
  parts,
  tries,
  random,
}: {
  plan: RateLimitPlan;
  parts: number;
  tries: number;
  random: () => number;
}): number[] {
  const fitting = plan.shardBudgets.flatMap((budget, shard) => (budget >= parts ? [shard] : []));
  // Partial Fisher–Yates: only the first `tries` places are drawn.
  for (let i = 0; i < Math.min(tries, fitting.length); i++) {
    const j = i + Math.min(fitting.length - i - 1, Math.floor(random() * (fitting.length - i)));
    const chosen = fitting[j];
    const here = fitting[i];
    if (chosen !== undefined && here !== undefined) {
      fitting[i] = chosen;
      fitting[j] = here;
    }
  }
  return fitting.slice(0, tries);
}

/**
 * How long a refused taker waits: to the start of the next window, plus a jitter of up to
 * `spreadMs` (a tenth of a window by default) so the refused takers do not all arrive at the
 * same instant and pile refusals onto the first shards they pick.
 */
export function rateRetryAfterMs({
  now,
  windowMs,
  random,
  spreadMs = Math.floor(windowMs / 10),
}: {
  now: number;
  windowMs: number;
  random: () => number;
  spreadMs?: number;
}): number {
  return rateWindow({ now, windowMs }).endsAt - now + Math.floor(random() * spreadMs);
}

export type RateTake =
  | { readonly granted: true }
  | { readonly granted: false; readonly retryAfterMs: number };

/**
 * The limiter shared by every sender of one provider account. DynamoDB implements it
 * (packages/aws, rate-limiter.ts); `account` names the provider account, and starts with the
 * tenant when the account is the tenant's own.
 */
export interface RateLimiter {
  /** Takes `parts` from the account's current window, or says how long to wait. */
  take(input: { account: string; parts: number; now: Date }): Promise<RateTake>;
}
